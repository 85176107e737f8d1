/**
 * What clients are told. Client messages carry the minimum the guidance allows: the service
 * name, the date and time, that the appointment is cancelled, how to rebook and at most a first
 * name. Nothing else reaches a client message because the wording only sees ClientFacts, built
 * field by field from the notice (a notice with extra fields, such as a reason or a risk note,
 * contributes nothing).
 *
 * Subjects are neutral for lock screens: no name, no service name (it may say "therapies"),
 * no date. The words "therapy" and "therapist" are not used at all.
 *
 * Each message answers what a client asks next: by when to choose, whom to ring with a question
 * about the appointment, what to do if a promised call does not come, how to change a booking.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ClientMessageKind, ClientNotice } from '../shared/activities';
import { link, list, p, type EmailContent } from '../mail/content';
import { INVALID_NOTICE, formatDay, formatWhen, greetingName } from '../mail/format';
import { formatUk } from '../shared/time';

/** What every client message needs besides the case's facts: who sends it, and a number to ring. */
export interface ClientContext {
  serviceName: string;
  /** The number for questions about appointments (APPOINTMENTS_PHONE). */
  phone: string;
}

/** "Mon 30 Nov 10:00": the short form a text message has room for. */
const short = (iso: string) => formatUk(iso);

export interface ClientFacts {
  kind: ClientMessageKind;
  /** First word of the first name, or '' (then the greeting has no name). */
  name: string;
  session: string;
  slots: string[];
  callbackBy?: string;
  bookedSlot?: string;
  expectedReturn?: string;
  withdrawnSlot?: string;
  /** Who will contact the client: their usual contact, or someone from the team while they are away. */
  contactBy?: 'therapist' | 'team';
  /** The client's choice page, for slotOffer. */
  chooseUrl?: string;
  /** For slotOffer: the time by which to choose (never later than the case's own deadline). */
  chooseBy?: string;
  /** The same times, short, for text messages. */
  short: { session: string; chooseBy?: string; callbackBy?: string; bookedSlot?: string; withdrawnSlot?: string };
}

function missing(kind: string, field: string): never {
  throw ApplicationFailure.nonRetryable(`A ${kind} client notice needs ${field}`, INVALID_NOTICE);
}

/**
 * Picks and formats the facts a client may see; checks each kind has what it needs. `chooseBy`
 * (an instant) is the time the client is asked to choose by, worked out by the caller.
 */
export function clientFacts(notice: ClientNotice, chooseUrl?: string, chooseBy?: string): ClientFacts {
  const facts: ClientFacts = {
    kind: notice.kind,
    name: greetingName(notice.firstName),
    session: formatWhen(notice.sessionStartsAt, 'session time'),
    slots: (notice.slots ?? []).map((s) => formatWhen(s, 'slot')),
    short: { session: short(notice.sessionStartsAt) },
  };
  if (notice.callbackBy) {
    facts.callbackBy = formatWhen(notice.callbackBy, 'callback time');
    facts.short.callbackBy = short(notice.callbackBy);
  }
  if (notice.bookedSlot) {
    facts.bookedSlot = formatWhen(notice.bookedSlot, 'booked slot');
    facts.short.bookedSlot = short(notice.bookedSlot);
  }
  if (notice.expectedReturn) facts.expectedReturn = formatDay(notice.expectedReturn, 'expected return');
  if (notice.withdrawnSlot) {
    facts.withdrawnSlot = formatWhen(notice.withdrawnSlot, 'withdrawn slot');
    facts.short.withdrawnSlot = short(notice.withdrawnSlot);
  }
  if (notice.contactBy === 'therapist' || notice.contactBy === 'team') facts.contactBy = notice.contactBy;
  switch (notice.kind) {
    case 'slotOffer':
      if (facts.slots.length === 0) missing(notice.kind, 'slots');
      if (!chooseUrl) missing(notice.kind, 'a choice link');
      facts.chooseUrl = chooseUrl;
      if (chooseBy) {
        facts.chooseBy = formatWhen(chooseBy, 'choice deadline');
        facts.short.chooseBy = short(chooseBy);
      }
      break;
    case 'callbackPromise':
      if (!facts.callbackBy) missing(notice.kind, 'callbackBy');
      break;
    case 'confirmation':
      if (!facts.bookedSlot) missing(notice.kind, 'bookedSlot');
      break;
    case 'absenceUpdate':
      break;
    case 'bookingWithdrawn':
      if (!facts.withdrawnSlot) missing(notice.kind, 'withdrawnSlot');
      break;
    default:
      missing(String((notice as { kind: unknown }).kind), 'a known kind');
  }
  return facts;
}

export const CLIENT_SUBJECTS: Record<ClientMessageKind, string> = {
  slotOffer: 'Your appointment has been cancelled: please choose a new time',
  callbackPromise: 'Your appointment has been cancelled',
  absenceUpdate: 'An update about your appointment',
  confirmation: 'Your new appointment is booked',
  bookingWithdrawn: 'Your new appointment cannot go ahead',
};

export function clientEmail(f: ClientFacts, ctx: ClientContext): EmailContent {
  const hello = p(f.name ? `Hello ${f.name},` : 'Hello,');
  const sorry = p(`We are sorry: your appointment on ${f.session} is cancelled.`);
  const questions = p(`If you have a question about your appointment, please ring us on ${ctx.phone}.`);
  let body: EmailContent['blocks'];
  switch (f.kind) {
    case 'slotOffer':
      body = [
        hello,
        sorry,
        p(`Please choose a new time${f.chooseBy ? ` by ${f.chooseBy}` : ''}. These times are free:`),
        list(f.slots),
        link(f.chooseUrl!, 'Choose a new time'),
        p('If none of these times suits you, the same link lets you ask us to contact you instead.'),
        questions,
        p('The link is just for you, so please do not forward this email.'),
      ];
      break;
    case 'callbackPromise':
      body = [
        hello,
        sorry,
        p(`We will phone you by ${f.callbackBy} to arrange a new appointment.`),
        p(`If we have not called you by then, please ring us on ${ctx.phone}.`),
      ];
      break;
    case 'absenceUpdate':
      body = f.contactBy
        ? [
            hello,
            p(`This is an update about your appointment on ${f.session}, which was cancelled.`),
            p(
              f.contactBy === 'team'
                ? `Someone from our team, rather than your usual contact, will now contact you${f.callbackBy ? ` by ${f.callbackBy}` : ''} to arrange a new appointment.`
                : `Your usual contact will now contact you${f.callbackBy ? ` by ${f.callbackBy}` : ''} to arrange a new appointment.`,
            ),
            questions,
          ]
        : [
            hello,
            p(`This is an update about your appointment on ${f.session}, which was cancelled.`),
            f.expectedReturn
              ? p(`We expect to be able to offer you a new appointment from ${f.expectedReturn}. We will contact you then to arrange it.`)
              : p('We cannot offer you a new appointment yet. We will contact you as soon as we can to arrange one.'),
            p('We are sorry for the wait.'),
            questions,
          ];
      break;
    case 'confirmation':
      body = [
        hello,
        p(`Your new appointment is on ${f.bookedSlot}.`),
        p(`It replaces your cancelled appointment on ${f.session}.`),
        p(`If you cannot make this time, or need to change it, please ring us on ${ctx.phone}.`),
      ];
      break;
    case 'bookingWithdrawn':
      body = [
        hello,
        p(`We are very sorry: your new appointment on ${f.withdrawnSlot}, booked in place of your cancelled appointment on ${f.session}, cannot go ahead, because the person you were booked with is away for longer than expected.`),
        f.expectedReturn
          ? p(`We expect to offer you a new appointment from ${f.expectedReturn}. Someone from our team will contact you to arrange it.`)
          : p('Someone from our team will contact you to arrange a new appointment.'),
        questions,
      ];
      break;
  }
  return { audience: 'client', subject: CLIENT_SUBJECTS[f.kind], blocks: body, footer: `From ${ctx.serviceName}` };
}
