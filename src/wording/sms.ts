/**
 * Client SMS wording. A text message is read on a lock screen in full, so it carries less than
 * the email: no name at all, the service first (so the client knows who writes), the date and
 * time, "cancelled", how to rebook, and the crisis line. It must fit in two segments: parts that
 * help but are not essential (an apology, a number for questions) are left out, least useful
 * first, when they would not fit. Built from the same ClientFacts as the email, so it can only
 * use what a client may see.
 */
import type { ClientContext, ClientFacts } from './client';
import { CRISIS_SMS } from './crisis';

/** The most segments a client text may take (each costs, and long texts arrive split). */
export const MAX_SMS_SEGMENTS = 2;

// GSM 03.38, the alphabet a text is sent in when it can be: 160 characters to a segment (153
// when concatenated), against 70 (67) for anything else. Written out here rather than taken from
// a package: it is a fixed table, and the count decides only which optional words fit.
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENDED = '^{}\\[~]|€\f';

/** How many segments a text takes. */
export function smsSegments(text: string): number {
  let septets = 0;
  for (const ch of text) {
    if (GSM_BASIC.includes(ch)) septets += 1;
    else if (GSM_EXTENDED.includes(ch)) septets += 2;
    else {
      const units = text.length;
      return units <= 70 ? 1 : Math.ceil(units / 67);
    }
  }
  return septets <= 160 ? 1 : Math.ceil(septets / 153);
}

/** Typographic punctuation has no place in GSM 03.38 and would make a text cost double. */
function plain(text: string): string {
  return text
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/\u2026/g, '...');
}

interface Part {
  text: string;
  /** Optional parts are kept in this order while the text fits; required ones always. */
  optional?: number;
  /** What an optional part reads when it is left out (a capital letter, say); nothing otherwise. */
  otherwise?: string;
}

/** Joins the parts, leaving out optional ones (least useful first) until the text fits. */
function fit(parts: Part[]): string {
  const optional = parts.filter((x) => x.optional !== undefined).sort((a, b) => a.optional! - b.optional!);
  const kept = new Set<Part>(parts.filter((x) => x.optional === undefined));
  const join = () => parts.map((x) => (kept.has(x) ? x.text : (x.otherwise ?? ''))).join('');
  for (const part of optional) {
    kept.add(part);
    if (smsSegments(join()) > MAX_SMS_SEGMENTS) kept.delete(part);
  }
  return join();
}

export function clientSms(f: ClientFacts, ctx: ClientContext): string {
  const s = f.short;
  const who: Part = { text: `${plain(ctx.serviceName)}: ` };
  const questions = (n: number): Part => ({ text: `\nQuestions? Ring ${ctx.phone}`, optional: n });
  const crisis: Part = { text: `\n${CRISIS_SMS}` };
  let parts: Part[];
  switch (f.kind) {
    case 'slotOffer':
      parts = [
        who,
        { text: 'sorry, ', optional: 2 },
        { text: `your appointment on ${s.session} is cancelled. ` },
        { text: 'Please c', optional: 3, otherwise: 'C' },
        // The link on a line of its own: phones then find its end reliably.
        { text: `${s.chooseBy ? `hoose a new time by ${s.chooseBy}:` : 'hoose a new time:'}\n${f.chooseUrl}` },
        questions(1),
        crisis,
      ];
      break;
    case 'callbackPromise':
      parts = [
        who,
        { text: 'sorry, ', optional: 2 },
        {
          text: `your appointment on ${s.session} is cancelled. We will phone you by ${s.callbackBy} to rebook. If we have not, ring ${ctx.phone}.`,
        },
        crisis,
      ];
      break;
    case 'absenceUpdate':
      parts = [
        who,
        {
          text: f.contactBy
            ? `about your cancelled appointment on ${s.session}: ${f.contactBy === 'team' ? 'someone from our team' : 'your usual contact'} will now contact you${s.callbackBy ? ` by ${s.callbackBy}` : ''} to arrange a new one.`
            : f.expectedReturn
              ? `about your cancelled appointment on ${s.session}: we expect to offer a new one from ${f.expectedReturn} and will contact you then.`
              : `about your cancelled appointment on ${s.session}: we cannot offer a new one yet and will contact you as soon as we can.`,
        },
        questions(1),
        crisis,
      ];
      break;
    case 'confirmation':
      parts = [
        who,
        {
          text: `your new appointment is on ${s.bookedSlot}, in place of the one on ${s.session}. To change it, ring ${ctx.phone}.`,
        },
        crisis,
      ];
      break;
    case 'bookingWithdrawn':
      parts = [
        who,
        { text: 'sorry, ', optional: 2 },
        { text: `your new appointment on ${s.withdrawnSlot} cannot go ahead. We will contact you to arrange another.` },
        questions(1),
        crisis,
      ];
      break;
  }
  return fit(parts);
}
