/**
 * Email over SMTP with nodemailer, and the mapping of SMTP failures onto Temporal's retry rules:
 * a failure a retry may cure (connection trouble, timeouts, 4xx replies) is an ordinary error;
 * a permanent refusal of the recipient or message (5xx) is ChannelRejected; a fault only a person
 * can fix (authentication, configuration, a refused sender) is ChannelMisconfigured.
 * Messages are written here, never copied from the server: replies often quote the recipient.
 */
import { ApplicationFailure } from '@temporalio/common';
import nodemailer, { type NodemailerError, type Transporter } from 'nodemailer';
import { dsnRequest } from '../delivery/message-ref';
import { FailureType } from '../shared/activities';
import { toNodemailerMessage, type Mailer, type OutgoingMail, type SentMail } from './mailer';

export interface SmtpMailerOptions {
  /** smtp:// or smtps:// URL, with credentials if the server needs them. */
  url: string;
  from: string;
  /** Milliseconds to open the TCP connection. */
  connectionTimeoutMs?: number;
  /** Milliseconds to wait for the server's greeting. */
  greetingTimeoutMs?: number;
  /** Milliseconds of silence on an open connection before giving up. */
  socketTimeoutMs?: number;
}

export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(private readonly options: SmtpMailerOptions) {
    this.transport = nodemailer.createTransport({
      url: options.url,
      // Connections are kept open and reused (up to 5, 100 messages each): a new connection per
      // email costs a TCP and SMTP handshake (and TLS for smtps) before every message.
      pool: true,
      // A connection that drops mid-message fails this attempt, as without a pool; nodemailer would
      // otherwise resend it on another connection, out of sight of the activity's retry policy.
      maxRequeues: 0,
      // Well under a typical activity timeout, so a stuck server fails the attempt, not the activity.
      connectionTimeout: options.connectionTimeoutMs ?? 10_000,
      greetingTimeout: options.greetingTimeoutMs ?? 10_000,
      socketTimeout: options.socketTimeoutMs ?? 30_000,
    });
  }

  async send(mail: OutgoingMail): Promise<SentMail> {
    try {
      await this.transport.sendMail({
        ...toNodemailerMessage(mail, this.options.from),
        // Delivery status notifications, where the relay offers them (docs/channels.md).
        dsn: dsnRequest(mail.messageId),
      });
    } catch (err) {
      throw classifySmtpError(err);
    }
    return { messageId: mail.messageId };
  }

  close(): Promise<void> {
    this.transport.close();
    return Promise.resolve();
  }
}

const AUTH_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2']);
const CONFIG_CODES = new Set(['ECONFIG', 'EREQUIRETLS']);
/** 530 authentication required, 534 mechanism too weak, 535 credentials invalid, 538 encryption required. */
const AUTH_REPLIES = new Set([530, 534, 535, 538]);

/** The command word only ("RCPT TO"), never its argument (the address). */
function commandName(command: unknown): string | undefined {
  if (typeof command !== 'string') return undefined;
  const m = /^[A-Z][A-Z ]*[A-Z]/.exec(command.trim());
  return m?.[0];
}

/** Maps a nodemailer error to what the activity throws. The result never carries an address. */
export function classifySmtpError(err: unknown): Error {
  const e = (typeof err === 'object' && err !== null ? err : {}) as NodemailerError;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const reply = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const command = commandName(e.command);
  const at = command ? ` at ${command}` : '';

  if ((code && AUTH_CODES.has(code)) || (reply !== undefined && AUTH_REPLIES.has(reply))) {
    return ApplicationFailure.nonRetryable(`SMTP authentication failed (${reply ?? code})`, FailureType.ChannelMisconfigured);
  }
  if (code && CONFIG_CODES.has(code)) {
    return ApplicationFailure.nonRetryable(`SMTP is misconfigured (${code})`, FailureType.ChannelMisconfigured);
  }
  // 503 is "bad sequence of commands": a session problem, not a verdict on the message.
  if (reply !== undefined && reply >= 500 && reply !== 503) {
    if (command === 'RCPT TO' || command === 'DATA') {
      return ApplicationFailure.nonRetryable(`SMTP server refused the message (${reply}${at})`, FailureType.ChannelRejected);
    }
    // Refusing the sender, or us, is not about this recipient: someone has to fix the set-up.
    return ApplicationFailure.nonRetryable(`SMTP server refused the sender or connection (${reply}${at})`, FailureType.ChannelMisconfigured);
  }
  if (reply !== undefined) {
    return new Error(`SMTP server deferred the message (${reply}${at})`);
  }
  const detail = [code, typeof e.originalCode === 'string' ? e.originalCode : undefined].filter(Boolean).join('/');
  return new Error(`SMTP delivery failed (${detail || 'unknown error'}${at})`);
}
