/**
 * The email channel as the activities see it: one message in, accepted or an error out.
 * Two implementations: SmtpMailer (real delivery) and MailboxMailer (development: .eml files).
 */
import type { SendMailOptions } from 'nodemailer';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** With angle brackets, e.g. from messageIdFor(). */
  messageId: string;
  date: Date;
}

export interface SentMail {
  messageId: string;
}

export interface Mailer {
  /** Resolves once the server (or the mailbox) has accepted the message; throws otherwise. */
  send(mail: OutgoingMail): Promise<SentMail>;
  close(): Promise<void>;
  /** True when acceptance is delivery (the development mailbox); a relay's acceptance is not. */
  readonly confirmsDelivery?: boolean;
}

const ID_PART = /[^A-Za-z0-9_-]+/g;

/**
 * A deterministic Message-ID: the same case, step and attempt always give the same id, so a
 * message delivered twice (email is at-least-once) can be recognised by whoever receives it.
 */
export function messageIdFor(caseId: string, step: string, attempt: number): string {
  const n = Number.isInteger(attempt) && attempt > 0 ? attempt : 1;
  return `<${caseId.replace(ID_PART, '-')}.${step.replace(ID_PART, '-')}.${n}@shortnotice>`;
}

/** The nodemailer message both mailers send: no attachments, no file or URL access. */
export function toNodemailerMessage(mail: OutgoingMail, from: string): SendMailOptions {
  return {
    from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    ...(mail.html === undefined ? {} : { html: mail.html }),
    messageId: mail.messageId,
    date: mail.date,
    // RFC 3834: tells mail servers and auto-responders this is automatic mail (no out-of-office loops).
    headers: { 'Auto-Submitted': 'auto-generated' },
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}
