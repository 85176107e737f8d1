/**
 * Bounds on what a client link can make happen (S2). A link is a bearer key that anyone holding
 * the message can use, and a script can use a thousand times: each "I don't feel able to wait"
 * emails the clinical network team and grows the case's state.
 *
 * - "Call me" and "I don't feel able to wait" are passed to a case once a day: a repeat, from this
 *   link or another of the same case, is answered "you have told us already" without reaching
 *   the case. A refused action does not count, so the client can try again.
 * - Each link, and each case across all its links, gets a bounded number of actions a day.
 *
 * Counters are express-rate-limit's MemoryStore (fixed windows, expired keys dropped), kept per
 * web instance: with several instances the bounds multiply by their number, and the case
 * workflow's own rule (one effect per kind while it is open) is what holds across them.
 */
import { createHash } from 'node:crypto';
import { MemoryStore, type Options } from 'express-rate-limit';
import type { RateWindow } from './limits';

export interface ClientActionLimits {
  perLink: RateWindow;
  perCase: RateWindow;
  /** How long a passed-on "call me" or "cannot wait" stands before the same is passed on again. */
  repeatWindowMs?: number;
}

export type RepeatableChoice = 'call' | 'cannot-wait';
export type Admission = 'ok' | 'link-limit' | 'case-limit';

const DAY = 86_400_000;

function store(windowMs: number): MemoryStore {
  const s = new MemoryStore();
  // The store reads only the window from the options a rate limiter would give it.
  s.init({ windowMs } as Options);
  return s;
}

/** Links are keys to a client's page: the counters hold a digest, never the token. */
const linkKey = (token: string) => `link:${createHash('sha256').update(token).digest('base64url').slice(0, 22)}`;

export class ClientActions {
  private readonly links: MemoryStore;
  private readonly cases: MemoryStore;
  private readonly passedOn: MemoryStore;

  constructor(private readonly limits: ClientActionLimits) {
    this.links = store(limits.perLink.windowMs);
    this.cases = store(limits.perCase.windowMs);
    this.passedOn = store(limits.repeatWindowMs ?? DAY);
  }

  /** Counts one action through `token` on `caseId`; whether it is within the bounds. */
  async admit(token: string, caseId: string): Promise<Admission> {
    if ((await this.links.increment(linkKey(token))).totalHits > this.limits.perLink.limit) return 'link-limit';
    if ((await this.cases.increment(`case:${caseId}`)).totalHits > this.limits.perCase.limit) return 'case-limit';
    return 'ok';
  }

  /**
   * Claims the one pass of `choice` to the case; false when it was passed on already. Claimed
   * before the case is asked (the store is in-process, so two racing posts cannot both win);
   * `release` gives it back when the case refused.
   */
  async claim(caseId: string, choice: RepeatableChoice): Promise<boolean> {
    return (await this.passedOn.increment(`${caseId}:${choice}`)).totalHits === 1;
  }

  async release(caseId: string, choice: RepeatableChoice): Promise<void> {
    await this.passedOn.resetKey(`${caseId}:${choice}`);
  }
}
