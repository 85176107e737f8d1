/**
 * Email over SMTP with nodemailer, and the mapping of SMTP failures onto Temporal's retry rules:
 * a failure a retry may cure (connection trouble, timeouts, 4xx replies) is an ordinary error;
 * a permanent refusal of the recipient or message (5xx) is ChannelRejected; a fault only a person
 * can fix (authentication, configuration, a refused sender) is ChannelMisconfigured.
 * Messages are written here, never copied from the server: replies often quote the recipient.
 * With traces on, each send is a span (the SMTP host and the reply code, never an address).
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ApplicationFailure } from '@temporalio/common';
import nodemailer, { type NodemailerError, type Transporter } from 'nodemailer';
import { dsnRequest } from '../delivery/message-ref';
import { FailureType } from '../shared/activities';
import { tracer } from '../tracing';
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
  /** Connections kept open to the relay at most (nodemailer's default, 5, when unset). */
  maxConnections?: number;
}

export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;
  /** The relay, as a span names it: host and port only (the URL may hold credentials). */
  private readonly server: { 'server.address': string; 'server.port': number };

  constructor(private readonly options: SmtpMailerOptions) {
    const relay = new URL(options.url);
    this.server = {
      'server.address': relay.hostname,
      'server.port': Number(relay.port) || (relay.protocol === 'smtps:' ? 465 : 25),
    };
    this.transport = nodemailer.createTransport({
      url: options.url,
      // Connections are kept open and reused (100 messages each): a new connection per email costs
      // a TCP and SMTP handshake (and TLS for smtps) before every message. Each carries one message
      // at a time, so at a high rate the number of connections caps the emails a second
      // (SMTP_MAX_CONNECTIONS; docs/performance.md).
      pool: true,
      maxConnections: options.maxConnections ?? 5,
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
    // A no-op span unless traces are on; a child of the activity's span when they are.
    return tracer().startActiveSpan(
      'smtp send',
      { kind: SpanKind.CLIENT, attributes: { ...this.server, 'network.protocol.name': 'smtp' } },
      async (span) => {
        try {
          await this.transport.sendMail({
            ...toNodemailerMessage(mail, this.options.from),
            // Delivery status notifications, where the relay offers them (docs/channels.md).
            dsn: dsnRequest(mail.messageId),
          });
          return { messageId: mail.messageId };
        } catch (err) {
          const failure = classifySmtpError(err);
          const reply = (err as { responseCode?: unknown } | null)?.responseCode;
          if (typeof reply === 'number') span.setAttribute('smtp.reply_code', reply);
          const type = failure instanceof ApplicationFailure ? (failure.type ?? 'Error') : 'Transient';
          span.setAttribute('error.type', type);
          // The classified message, written here: the server's own reply may quote the recipient.
          span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
          throw failure;
        } finally {
          span.end();
        }
      },
    );
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
