/**
 * What staff are told: therapists (tasks and reminders), the provider (absence notices) and the
 * teams (escalations). Staff messages link to the case page, which needs a sign-in. Therapist
 * messages name the client by first name and reference, since the therapist is their clinician;
 * provider notices and escalations carry no client details at all, only the therapist's
 * reference, the session time and the link.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { EscalationNotice, ProviderNotice, ProviderNoticeKind, TherapistMessageKind, TherapistNotice } from '../shared/activities';
import { RECORDS, type RecordName, type Team } from '../shared/case';
import { facts, link, list, p, warning, type Block, type EmailContent } from '../mail/content';
import { INVALID_NOTICE, casePageUrl, formatDay, formatWhen, oneLine } from '../mail/format';

export interface StaffContext {
  publicBaseUrl: string;
  serviceName: string;
  supportEmail: string;
  supportPhone: string;
  /** 'mpb': records are found on MPB by themselves; 'attestation': the therapist confirms them. */
  recordsMode: 'mpb' | 'attestation';
}

export const RECORD_TASKS: Record<RecordName, string> = {
  attendance: 'Attendance: mark the cancelled session "Appointment Cancelled by Therapist/VHG"',
  clinicalNote: 'Clinical Note: when and how the client was told, and what was agreed',
  nextSession: 'Next session: add it, so that the client gets a booking confirmation',
};

export const THERAPIST_SUBJECTS: Record<TherapistMessageKind, string> = {
  callTask: 'Action needed: phone a client about a cancelled session',
  callbackReminder: 'Reminder: a client is waiting to hear from you',
  followUpDuty: 'Action needed: a client has not chosen a new time',
  confirmation: 'A client has booked a new session',
  documentationReminder: 'Reminder: record a cancelled session on MPB',
  absenceOverrunReminder: 'Reminder: please update your expected return date',
};

export const PROVIDER_SUBJECTS: Record<ProviderNoticeKind, string> = {
  absenceStarted: 'Therapist absence: sessions cancelled at short notice',
  absenceExtended: 'Therapist absence extended',
  absenceShortened: 'Therapist absence: back sooner than expected',
  absenceOverrun: 'Therapist absence has passed its expected return date',
  absenceEnded: 'Therapist back from absence',
};

const PROVIDER_INTROS: Record<ProviderNoticeKind, string> = {
  absenceStarted: 'A therapist is away and has cancelled sessions at short notice. Their clients are being told and rebooked.',
  absenceExtended: 'A therapist has extended their absence. Their clients are being kept informed.',
  absenceShortened: 'A therapist expects to be back sooner than they said. Their clients are being kept informed.',
  absenceOverrun: "A therapist's expected return date has passed without an update. They have been reminded to update it.",
  absenceEnded: 'A therapist has reported being back from their absence.',
};

export const ESCALATION_SUBJECTS: Record<Team, string> = {
  network: 'Escalation: clinical network support needed for a cancelled session',
  risk: 'Urgent: welfare or risk concern on a cancelled session',
  support: 'Support needed: a cancelled session',
  lead: 'Escalation to the clinical lead: a cancelled session',
};

function need<T>(value: T | undefined, kind: string, field: string): T {
  if (value === undefined || value === null || value === '') {
    throw ApplicationFailure.nonRetryable(`A ${kind} notice needs ${field}`, INVALID_NOTICE);
  }
  return value;
}

const when = (iso: string | undefined, field: string) => (iso ? formatWhen(iso, field) : undefined);

function footer(ctx: StaffContext, caseId: string): string {
  return `Sent by shortnotice for ${ctx.serviceName}. Case ${caseId}.`;
}

function supportLine(ctx: StaffContext): Block {
  return p(`Support desk: phone ${ctx.supportPhone} or email ${ctx.supportEmail}.`);
}

export function therapistEmail(n: TherapistNotice, ctx: StaffContext): EmailContent {
  const caseUrl = casePageUrl(ctx.publicBaseUrl, n.caseId);
  const client = `${oneLine(n.clientFirstName, 100)} (client ref ${oneLine(n.clientRef, 40)})`;
  const session = formatWhen(n.sessionStartsAt, 'session time');
  const deadline = when(n.deadline, 'deadline');
  const slots = (n.slots ?? []).map((s) => formatWhen(s, 'slot'));
  const callbackBy = when(n.callbackBy, 'callback time');
  const bookedSlot = when(n.bookedSlot, 'booked slot');
  const expectedReturn = n.expectedReturn ? formatDay(n.expectedReturn, 'expected return') : undefined;
  const hello = p(`Hello ${oneLine(n.therapistName, 100)},`);
  let blocks: Block[];

  switch (n.kind) {
    case 'callTask': {
      const contact = need(n.contact, n.kind, 'contact');
      const why = {
        cancel: `Please phone ${client} to tell them that their session on ${session} is cancelled, and to agree how it will be rebooked.`,
        absenceUpdate: `Please phone ${client} to update them about their cancelled session on ${session}: your absence is continuing.`,
        followUp: `Please phone ${client} to agree a new time for their cancelled session on ${session}. They have not yet agreed a new time.`,
        notReached: `Support could not reach ${client} by phone about their cancelled session on ${session}. Please try to reach them by any means you have, and agree a new time.`,
      }[contact.purpose];
      const voicemail =
        contact.voicemailAllowed
          ? p('The client chose voicemail, so you may leave a voicemail if they do not answer. Keep it short, with no clinical details.')
          : warning('Do not leave a voicemail: the client has not agreed to voicemail. If they do not answer, try again, and record each attempt on the case page.');
      blocks = [
        hello,
        p(why),
        facts([
          ['Client', client],
          ['Phone', contact.phone ? oneLine(contact.phone, 20) : undefined],
          ['Cancelled session', session],
          ['Call by', deadline],
          ['Your expected return', expectedReturn],
        ]),
        voicemail,
      ];
      if (slots.length > 0) blocks.push(p('Times you can offer:'), list(slots));
      if (callbackBy) blocks.push(p(`If they cannot agree a time now, tell them you will contact them by ${callbackBy}.`));
      if (bookedSlot) blocks.push(p(`Their new session is on ${bookedSlot}.`));
      blocks.push(
        link(caseUrl, 'Record the outcome of the call'),
        p(`If technical problems stop you reaching the client and there is no time to raise a ticket, phone support on ${ctx.supportPhone} or email ${ctx.supportEmail}.`),
      );
      break;
    }
    case 'callbackReminder':
      blocks = [
        hello,
        p(`You said you would contact ${client} by ${need(callbackBy, n.kind, 'callbackBy')} to arrange a new time for their cancelled session on ${session}.`),
        p('Once you have agreed a time, record it on the case page.'),
        link(caseUrl, 'Open the case'),
      ];
      break;
    case 'followUpDuty':
      blocks = [
        hello,
        p(`${client} has not chosen one of the times offered for their cancelled session on ${session}.`),
        p(`Please contact them by their preferred method${deadline ? `, no later than ${deadline},` : ''} to agree a new time.`),
      ];
      if (slots.length > 0) blocks.push(p('Times offered:'), list(slots));
      blocks.push(link(caseUrl, 'Record the outcome'));
      break;
    case 'confirmation':
      blocks = [
        hello,
        p(`${client} has booked ${need(bookedSlot, n.kind, 'bookedSlot')} to replace their cancelled session on ${session}.`),
        p('Please add the new session on MPB, so that the client gets a booking confirmation.'),
        link(caseUrl, 'Open the case'),
      ];
      break;
    case 'documentationReminder': {
      const missing = n.missingRecords && n.missingRecords.length > 0 ? n.missingRecords : [...RECORDS];
      blocks = [
        hello,
        p(`Please update the file of ${client} on MPB for the cancelled session on ${session}${deadline ? `, by ${deadline}` : ''}. Still to do:`),
        list(missing.map((r) => RECORD_TASKS[r])),
        p(
          ctx.recordsMode === 'mpb'
            ? 'The records are checked on MPB regularly, so there is nothing to confirm here once they are done.'
            : 'When each one is done, confirm it on the case page.',
        ),
        p(`If you cannot get into MPB, raise a ticket, or phone support on ${ctx.supportPhone} or email ${ctx.supportEmail}, so that someone can add the notes for you.`),
        link(caseUrl, 'Open the case'),
      ];
      break;
    }
    case 'absenceOverrunReminder':
      blocks = [
        hello,
        p(`Your expected return date, ${need(expectedReturn, n.kind, 'expectedReturn')}, has passed. The session of ${client} on ${session} was cancelled and is waiting for a new time.`),
        p('Please update your expected return on the case page, so that your clients and the provider can be kept informed.'),
        link(caseUrl, 'Update your expected return'),
      ];
      break;
    default:
      need(undefined, String((n as { kind: unknown }).kind), 'a known kind');
  }
  return { audience: 'staff', subject: THERAPIST_SUBJECTS[n.kind], blocks: blocks!, footer: footer(ctx, n.caseId) };
}

export function providerEmail(n: ProviderNotice, ctx: StaffContext): EmailContent {
  const subject = PROVIDER_SUBJECTS[n.kind] ?? need(undefined, String(n.kind), 'a known kind');
  const expectedReturn = n.expectedReturn ? formatDay(n.expectedReturn, 'expected return') : undefined;
  const intro = p(PROVIDER_INTROS[n.kind]);
  return {
    audience: 'staff',
    subject,
    blocks: [
      intro,
      facts([
        ['Therapist', oneLine(n.therapistRef, 40)],
        [n.kind === 'absenceOverrun' ? 'Was expected back' : 'Expected back', n.kind === 'absenceEnded' ? undefined : expectedReturn],
        ['Sessions cancelled in this absence', n.sessions !== undefined ? String(n.sessions) : undefined],
        ['A cancelled session', formatWhen(n.sessionStartsAt, 'session time')],
      ]),
      link(casePageUrl(ctx.publicBaseUrl, n.caseId), 'Open the case'),
    ],
    footer: footer(ctx, n.caseId),
  };
}

const ESCALATION_INTROS: Record<Team, string> = {
  network: 'A cancelled session needs the clinical network team.',
  risk: 'A welfare, safeguarding or risk concern has been raised on a cancelled session. Please act on it as soon as possible.',
  support: 'A therapist needs the support team\'s help with a cancelled session.',
  lead: 'A cancelled session needs a clinical lead.',
};

const TEAM_NAMES: Record<Team, string> = { network: 'the clinical network team', risk: 'risk duty', support: 'support', lead: 'the clinical lead' };

export function escalationEmail(n: EscalationNotice, ctx: StaffContext): EmailContent {
  const base = ESCALATION_SUBJECTS[n.team] ?? need(undefined, String(n.team), 'a known team');
  const copied = n.recipient !== undefined && n.recipient !== n.team;
  const reminder = (n.alert ?? 1) > 1;
  let subject = base;
  if (copied) subject = `Not yet acknowledged by ${TEAM_NAMES[n.team]}: ${base.charAt(0).toLowerCase()}${base.slice(1)}`;
  else if (reminder) subject = `Reminder: ${base.charAt(0).toLowerCase()}${base.slice(1)}`;
  const intro: Block[] = [p(ESCALATION_INTROS[n.team])];
  if (copied) {
    intro.unshift(
      warning(
        `You are receiving this because ${TEAM_NAMES[n.team]} has not acknowledged it in time, or could not be alerted. Please make sure someone acts on it, and acknowledge it on the case page.`,
      ),
    );
  } else if (reminder) {
    intro.unshift(warning('This has not been acknowledged yet. Please acknowledge it on the case page once it is in hand.'));
  }
  return {
    audience: 'staff',
    subject,
    blocks: [
      ...intro,
      facts([
        ['Reason', oneLine(n.reason, 500)],
        ['Therapist', oneLine(n.therapistRef, 40)],
        ['Cancelled session', formatWhen(n.sessionStartsAt, 'session time')],
        ['Respond by', when(n.deadline, 'deadline')],
      ]),
      p('The client\'s details are on the case page, which asks you to sign in. Acknowledge the escalation there, so that others know it is in hand.'),
      link(casePageUrl(ctx.publicBaseUrl, n.caseId), 'Open the case'),
      supportLine(ctx),
    ],
    footer: footer(ctx, n.caseId),
  };
}
