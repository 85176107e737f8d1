/**
 * HTTP adapter for the MPB ("Making People Better") cancellation-records endpoint, as specified
 * in docs/mpb-api.md and docs/mpb-openapi.yaml. One GET per check, carrying only the session id
 * and a time; the answer is validated with zod before anything is read from it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { FailureType, type RecordsQuery, type RecordsStatus } from '../shared/activities';
import type { RecordsChecker } from './checker';

/** MPB's "Appointment Cancelled by Therapist/VHG" attendance value. */
export const CANCELLED_BY_PROVIDER = 'cancelled-by-provider';

/**
 * Notes are asked for from this long before the cancellation was submitted: a therapist may
 * phone the client and write the note first, then submit the cancellation.
 */
export const NOTE_LOOKBACK_MS = 2 * 60 * 60 * 1000;

const instant = z.iso.datetime({ offset: true });

export const cancellationRecordsSchema = z.object({
  sessionId: z.string().min(1),
  clientRef: z.string().min(1),
  attendance: z.object({
    // Any string: an outcome this client does not know is simply not the one it looks for.
    outcome: z.string().min(1),
    recordedAt: instant.nullable(),
  }),
  clinicalNotes: z.array(z.object({ noteId: z.string().min(1), writtenAt: instant })),
  nextSession: z.object({ sessionId: z.string().min(1), startsAt: instant }).nullable(),
});

export type CancellationRecords = z.infer<typeof cancellationRecordsSchema>;

const notFoundSchema = z.object({ error: z.literal('session-not-found') });

export const NOTHING_RECORDED: RecordsStatus = Object.freeze({ attendance: false, clinicalNote: false, nextSession: false });

export interface MpbRecordsOptions {
  baseUrl: string;
  token?: string;
  timeoutMs: number;
}

export class MpbRecordsChecker implements RecordsChecker {
  private readonly baseUrl: string;

  constructor(private readonly options: MpbRecordsOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  async check(query: RecordsQuery): Promise<RecordsStatus> {
    const cancelledAt = Date.parse(query.cancelledAt);
    if (Number.isNaN(cancelledAt)) {
      throw ApplicationFailure.nonRetryable('The records query has an invalid cancelledAt', 'InvalidNotice');
    }
    const since = new Date(cancelledAt - NOTE_LOOKBACK_MS).toISOString();
    const url = `${this.baseUrl}/v1/sessions/${encodeURIComponent(query.sessionId)}/cancellation-records?${new URLSearchParams({ since }).toString()}`;

    let status: number;
    let text: string;
    try {
      const res = await fetch(url, {
        headers: {
          Accept: 'application/json',
          'X-Correlation-Id': query.caseId,
          ...(this.options.token ? { Authorization: `Bearer ${this.options.token}` } : {}),
        },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      if (isTimeout(err)) {
        throw new Error(`MPB did not answer within ${this.options.timeoutMs} ms`);
      }
      const code = (err as { cause?: { code?: unknown } }).cause?.code;
      throw new Error(`MPB could not be reached${typeof code === 'string' ? ` (${code})` : ''}`);
    }

    if (status === 200) return readRecords(parseJson(text), query, cancelledAt - NOTE_LOOKBACK_MS);
    if (status === 404) {
      // Only the contract's own answer means "MPB has no such session, so nothing is recorded";
      // any other 404 (a proxy, a wrong base URL) says nothing about the records.
      if (notFoundSchema.safeParse(parseJson(text)).success) return { ...NOTHING_RECORDED };
      throw ApplicationFailure.nonRetryable('MPB answered 404 without the contract\'s body: check MPB_BASE_URL', FailureType.ChannelMisconfigured);
    }
    if (status === 401 || status === 403) {
      throw ApplicationFailure.nonRetryable(`MPB refused our credentials (${status}): check MPB_API_TOKEN`, FailureType.ChannelMisconfigured);
    }
    if (status === 400 || status === 405 || status === 406 || status === 422) {
      throw ApplicationFailure.nonRetryable(`MPB refused the request (${status}): the contract versions differ`, FailureType.ChannelMisconfigured);
    }
    throw new Error(`MPB is unavailable (${status})`);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Reads a 200 answer; malformed or mismatched answers throw (retryable), never read as documented. */
export function readRecords(body: unknown, query: RecordsQuery, notesSinceMs: number): RecordsStatus {
  const parsed = cancellationRecordsSchema.safeParse(body);
  if (!parsed.success) throw new Error('MPB answered with a body that does not match the contract');
  const r = parsed.data;
  if (r.sessionId !== query.sessionId) throw new Error('MPB answered about a different session');
  if (r.clientRef !== query.clientRef) {
    // The session id points at another client's file: reading it would mark the wrong records.
    throw ApplicationFailure.nonRetryable('MPB holds this session under a different client reference', FailureType.ChannelMisconfigured);
  }
  return {
    attendance: r.attendance.outcome === CANCELLED_BY_PROVIDER,
    clinicalNote: r.clinicalNotes.some((n) => Date.parse(n.writtenAt) >= notesSinceMs),
    nextSession: r.nextSession !== null && r.nextSession.sessionId !== query.sessionId,
  };
}

/** fetch rejects with a DOMException named TimeoutError (or AbortError), not always an Error subclass in this realm. */
function isTimeout(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}
