/**
 * What the development mailbox pages need, kept small so tests can fake it, and the adapter
 * over the .eml directory written by the mailbox mailer.
 */
import { listMailbox, readMailboxMessage } from '../mailbox/mailbox';

export interface MailSummary {
  id: string;
  /** ISO instant: the message's Date header, or when it was stored. */
  date: string;
  to: string;
  subject: string;
}

export interface MailDetail extends MailSummary {
  from?: string;
  messageId?: string;
  text?: string;
  /** The sender's HTML, unsanitised: only ever shown in a sandboxed frame. */
  html?: string;
}

export interface Mailbox {
  list(): Promise<MailSummary[]>;
  read(id: string): Promise<MailDetail | undefined>;
}

export function directoryMailbox(dir: string): Mailbox {
  const detail = (e: NonNullable<Awaited<ReturnType<typeof readMailboxMessage>>>): MailDetail => ({
    id: e.id,
    date: e.date ?? e.storedAt,
    to: e.to ?? '',
    subject: e.subject ?? '',
    from: e.from,
    messageId: e.messageId,
    text: e.text,
    html: e.html,
  });
  return {
    list: async () => (await listMailbox(dir)).map((e) => ({ id: e.id, date: e.date ?? e.storedAt, to: e.to ?? '', subject: e.subject ?? '' })),
    read: async (id) => {
      const e = await readMailboxMessage(dir, id);
      return e ? detail(e) : undefined;
    },
  };
}
