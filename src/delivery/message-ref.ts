/**
 * Our email Message-IDs (messageIdFor in src/mail/mailer.ts: `<caseId.step.attempt@shortnotice>`)
 * read back into the case and step they name, so a bounce finds the case that sent the message.
 * The same string without angle brackets is the SMTP envelope id (ENVID) we ask DSNs to quote.
 */
import type { SMTPEnvelopeDsn } from 'nodemailer';
import { isCaseId } from '../shared/ids';

export interface MessageRef {
  caseId: string;
  /** The case step that sent the message (the workflow's message key). */
  step: string;
  attempt: number;
}

/** Steps are message keys such as client-slotOffer-5; messageIdFor keeps only these characters. */
const REF = /^<?(c[0-9a-z]{20})\.([A-Za-z0-9_-]{1,120})\.([1-9][0-9]{0,5})@shortnotice>?$/;

/** The case, step and attempt in one of our Message-IDs or envelope ids; undefined for anyone else's. */
export function parseMessageRef(value: string | undefined): MessageRef | undefined {
  if (typeof value !== 'string') return undefined;
  const m = REF.exec(value.trim());
  if (!m || !isCaseId(m[1]!)) return undefined;
  return { caseId: m[1]!, step: m[2]!, attempt: Number(m[3]) };
}

/** The envelope id (RFC 3461 ENVID) for a message: its Message-ID without the angle brackets. */
export function envelopeIdFor(messageId: string): string {
  return messageId.replace(/^<|>$/g, '');
}

/**
 * What we ask the relay for when it speaks DSN (RFC 3461): a report when a message fails, is
 * delayed or is delivered, quoting our envelope id and only the headers of the message (never its
 * body, which is about the client). Nodemailer leaves these out when the server does not
 * advertise DSN, so the send itself never depends on them.
 */
export function dsnRequest(messageId: string): SMTPEnvelopeDsn {
  return { envid: envelopeIdFor(messageId), notify: ['FAILURE', 'DELAY', 'SUCCESS'], ret: 'HDRS' };
}
