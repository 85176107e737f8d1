/**
 * SMS through GOV.UK Notify's REST API (v2), with plain fetch and a JWT per request.
 * Notify's SMS template is expected to be `((body))`: the wording is ours, so it can stay
 * minimal and carry the crisis line, and Notify only delivers it.
 *
 * Notify has no idempotency header. Each message carries `reference` (case and step), and a
 * retried send first asks Notify for a message with that reference, so a send whose answer was
 * lost is not repeated.
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType } from '../shared/activities';
import { parseNotifyApiKey, signHs256Jwt, type NotifyCredentials } from './jwt';
import type { SmsSender, SmsSendOptions, SmsStatus } from './sender';

export interface NotifySmsOptions {
  apiKey: string;
  templateId: string;
  /** e.g. https://api.notifications.service.gov.uk */
  baseUrl: string;
  /** Per request; a request still running after this is abandoned and retried by Temporal. */
  timeoutMs?: number;
  now?: () => Date;
}

const sentSchema = z.object({ id: z.string().min(1).max(100) });
const listSchema = z.object({
  notifications: z.array(z.object({ id: z.string().min(1).max(100), reference: z.string().nullish(), status: z.string() })),
});
const statusSchema = z.object({ status: z.string().min(1).max(40) });
const errorSchema = z.object({ errors: z.array(z.object({ error: z.string(), message: z.string() })) });

/** A 400 naming one of these is about our set-up, not the recipient's number. */
const SETUP_PROBLEM = /team-only|trial mode|template|personalisation|api key|not allowed to send|sms_sender/i;

/**
 * Notify's text-message statuses: on the way, delivered, or failed for good. "sent" is used for
 * international numbers whose networks send no receipt, so delivery stays unknown.
 */
const PENDING = new Set(['created', 'sending', 'pending', 'accepted']);
const FAILED = new Set(['permanent-failure', 'temporary-failure', 'technical-failure', 'validation-failed', 'virus-scan-failed']);

/** Statuses after which Notify gave up on its own account, so sending again is right. */
const RESEND_AFTER = new Set(['technical-failure']);

export class NotifySmsSender implements SmsSender {
  private readonly credentials: NotifyCredentials;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly now: () => Date;

  constructor(private readonly options: NotifySmsOptions) {
    this.credentials = parseNotifyApiKey(options.apiKey);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.now = options.now ?? (() => new Date());
  }

  async send(to: string, body: string, reference: string, options: SmsSendOptions = {}): Promise<{ id: string }> {
    if (options.retry) {
      const earlier = await this.findByReference(reference);
      if (earlier) return { id: earlier };
    }
    const res = await this.request('POST', '/v2/notifications/sms', {
      phone_number: to,
      template_id: this.options.templateId,
      personalisation: { body },
      reference,
    });
    if (res.status < 200 || res.status > 299) throw notifyFailure(res.status, res.body);
    const sent = sentSchema.safeParse(parseJson(res.body));
    // Notify took the message; an unreadable answer must not make us send it again.
    return { id: sent.success ? sent.data.id : `notify-reference:${reference}` };
  }

  async status(id: string): Promise<SmsStatus> {
    const res = await this.request('GET', `/v2/notifications/${encodeURIComponent(id)}`);
    if (res.status === 404) return { state: 'unknown', reason: 'not-found' };
    if (res.status < 200 || res.status > 299) throw notifyFailure(res.status, res.body);
    const parsed = statusSchema.safeParse(parseJson(res.body));
    if (!parsed.success) throw new Error('GOV.UK Notify answered the status lookup with an unexpected body');
    const status = parsed.data.status;
    if (status === 'delivered') return { state: 'delivered', reason: status };
    if (FAILED.has(status)) return { state: 'failed', reason: status };
    if (PENDING.has(status)) return { state: 'pending', reason: status };
    return { state: 'unknown', reason: /^[a-z-]{1,40}$/.test(status) ? status : 'unrecognised' };
  }

  /** The id of a message already sent with this reference, if Notify has one worth keeping. */
  private async findByReference(reference: string): Promise<string | undefined> {
    const query = new URLSearchParams({ template_type: 'sms', reference });
    const res = await this.request('GET', `/v2/notifications?${query.toString()}`);
    if (res.status < 200 || res.status > 299) throw notifyFailure(res.status, res.body);
    const list = listSchema.safeParse(parseJson(res.body));
    if (!list.success) throw new Error('GOV.UK Notify answered the reference lookup with an unexpected body');
    return list.data.notifications.find((n) => n.reference === reference && !RESEND_AFTER.has(n.status))?.id;
  }

  private async request(method: 'GET' | 'POST', path: string, json?: unknown): Promise<{ status: number; body: string }> {
    const iat = Math.floor(this.now().getTime() / 1000);
    const token = signHs256Jwt({ iss: this.credentials.serviceId, iat }, this.credentials.secretKey);
    try {
      const res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: 'application/json',
          ...(json === undefined ? {} : { 'Content-Type': 'application/json' }),
          'User-Agent': 'shortnotice',
        },
        body: json === undefined ? undefined : JSON.stringify(json),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      return { status: res.status, body: await res.text() };
    } catch (err) {
      if (isTimeout(err)) {
        throw new Error(`GOV.UK Notify did not answer within ${this.timeoutMs} ms`);
      }
      const code = (err as { cause?: { code?: unknown } }).cause?.code;
      throw new Error(`GOV.UK Notify could not be reached${typeof code === 'string' ? ` (${code})` : ''}`);
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Maps a Notify error answer to what the activity throws. Only Notify's error class names
 * (e.g. ValidationError) are repeated, never its messages, which may quote the request.
 */
export function notifyFailure(status: number, body: string): Error {
  const parsed = errorSchema.safeParse(parseJson(body));
  const errors = parsed.success ? parsed.data.errors : [];
  const classes = [...new Set(errors.map((e) => e.error).filter((e) => /^[A-Za-z]{1,40}$/.test(e)))];
  const label = `${status}${classes.length > 0 ? ` ${classes.join(', ')}` : ''}`;

  if (status === 408 || status === 429 || status >= 500) {
    return new Error(`GOV.UK Notify is busy or unavailable (${label})`);
  }
  if (status === 401 || status === 403) {
    return ApplicationFailure.nonRetryable(`GOV.UK Notify refused our credentials (${label})`, FailureType.ChannelMisconfigured);
  }
  if (status === 400) {
    if (errors.some((e) => SETUP_PROBLEM.test(e.message))) {
      return ApplicationFailure.nonRetryable(`GOV.UK Notify refused the request as set up (${label})`, FailureType.ChannelMisconfigured);
    }
    return ApplicationFailure.nonRetryable(`GOV.UK Notify refused the recipient (${label})`, FailureType.ChannelRejected);
  }
  return ApplicationFailure.nonRetryable(`GOV.UK Notify answered ${label}: check NOTIFY_BASE_URL`, FailureType.ChannelMisconfigured);
}

/** fetch rejects with a DOMException named TimeoutError (or AbortError), not always an Error subclass in this realm. */
function isTimeout(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}
