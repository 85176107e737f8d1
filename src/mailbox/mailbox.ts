/**
 * The development mailbox: with no SMTP server configured, email (and, with no SMS provider,
 * SMS) is written as .eml files to a directory, and the dev page at /dev/mailbox lists them.
 * Files are written atomically (temporary file, then rename), so the page never reads half a
 * message. File names carry a timestamp and a hash, never an address.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser, type AddressObject } from 'mailparser';
import nodemailer, { type Transporter } from 'nodemailer';
import { toNodemailerMessage, type Mailer, type OutgoingMail, type SentMail } from '../mail/mailer';

/** 20261127T100000123Z-<10 hex of the Message-ID hash>-<6 random hex> */
const ENTRY_ID = /^\d{8}T\d{9}Z-[0-9a-f]{10}-[0-9a-f]{6}$/;
const EXTENSION = '.eml';

export interface MailboxEntry {
  /** Opaque id for readMailboxMessage (the file name without .eml). */
  id: string;
  /** When the message was written to the mailbox. */
  storedAt: string;
  messageId?: string;
  from?: string;
  to?: string;
  subject?: string;
  date?: string;
  text?: string;
  /** The sender's HTML, unsanitised: show it in a sandboxed iframe, never inline. */
  html?: string;
}

export interface MailboxMailerOptions {
  dir: string;
  from: string;
  now?: () => Date;
}

export class MailboxMailer implements Mailer {
  private readonly transport: Transporter;
  /** A message written to the mailbox has arrived: there is nobody further to deliver it to. */
  readonly confirmsDelivery = true;

  constructor(private readonly options: MailboxMailerOptions) {
    this.transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  }

  async send(mail: OutgoingMail): Promise<SentMail> {
    const info = await this.transport.sendMail(toNodemailerMessage(mail, this.options.from));
    const raw = (info as { message: unknown }).message;
    if (!Buffer.isBuffer(raw)) throw new Error('The mailbox transport did not return the message');
    await writeMailboxMessage(this.options.dir, raw, mail.messageId, (this.options.now ?? (() => new Date()))());
    return { messageId: mail.messageId };
  }

  close(): Promise<void> {
    this.transport.close();
    return Promise.resolve();
  }
}

/** Stores a raw RFC 5322 message; returns its mailbox id. */
export async function writeMailboxMessage(dir: string, raw: Buffer, messageId: string, at: Date = new Date()): Promise<string> {
  await mkdir(dir, { recursive: true });
  const stamp = at.toISOString().replace(/[-:.]/g, '');
  const hash = createHash('sha256').update(messageId).digest('hex').slice(0, 10);
  const id = `${stamp}-${hash}-${randomBytes(3).toString('hex')}`;
  const finalPath = path.join(dir, `${id}${EXTENSION}`);
  const tempPath = path.join(dir, `.${id}.${process.pid}.tmp`);
  try {
    await writeFile(tempPath, raw, { flag: 'wx' });
    await rename(tempPath, finalPath);
  } catch (err) {
    await unlink(tempPath).catch(() => undefined);
    throw err;
  }
  return id;
}

/** The newest messages first (at most `limit`); an absent directory is an empty mailbox. */
export async function listMailbox(dir: string, limit = 100): Promise<MailboxEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const ids = names
    .filter((n) => n.endsWith(EXTENSION))
    .map((n) => n.slice(0, -EXTENSION.length))
    .filter((id) => ENTRY_ID.test(id))
    .sort()
    .reverse()
    .slice(0, Math.max(0, limit));
  const entries = await Promise.all(ids.map((id) => readMailboxMessage(dir, id)));
  return entries.filter((e): e is MailboxEntry => e !== null);
}

/** One message by id, or null if there is none (ids are checked, so no path can escape `dir`). */
export async function readMailboxMessage(dir: string, id: string): Promise<MailboxEntry | null> {
  if (typeof id !== 'string' || !ENTRY_ID.test(id)) return null;
  let raw: Buffer;
  try {
    raw = await readFile(path.join(dir, `${id}${EXTENSION}`));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const parsed = await simpleParser(raw);
  const entry: MailboxEntry = { id, storedAt: storedAt(id) };
  if (parsed.messageId) entry.messageId = parsed.messageId;
  const from = addressText(parsed.from);
  if (from) entry.from = from;
  const to = addressText(parsed.to);
  if (to) entry.to = to;
  if (parsed.subject !== undefined) entry.subject = parsed.subject;
  if (parsed.date) entry.date = parsed.date.toISOString();
  if (parsed.text !== undefined) entry.text = parsed.text;
  if (typeof parsed.html === 'string') entry.html = parsed.html;
  return entry;
}

function addressText(value: AddressObject | AddressObject[] | undefined): string | undefined {
  if (!value) return undefined;
  return (Array.isArray(value) ? value : [value]).map((a) => a.text).join(', ');
}

function storedAt(id: string): string {
  const s = id.slice(0, 19);
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}.${s.slice(15, 18)}Z`;
}
