/**
 * Every duration and threshold a case uses, in one pure module with no schema library: the
 * workflow imports it, and anything heavy here would be rebuilt for every case and every replay.
 * The zod schema that checks operator overrides lives beside it, on the Node side
 * (policy-schema.ts). A case receives its policy as input, so a running case keeps the policy it
 * started with even when an operator changes the defaults.
 */

import { ukDate, ukHour, ukLocalToInstant } from './time';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface Policy {
  /** A new case must have told the client (or handed the call to someone) within this. */
  contactWithinMs: number;
  /** How long a client has to pick one of the offered slots. */
  clientResponseWindowMs: number;
  /** The choice must be made at least this long before the earliest offered slot. */
  choiceCutoffBeforeSlotMs: number;
  /** The therapist's follow-up duty when the client has not chosen. */
  followUpWindowMs: number;
  /** How long before a promised callback the therapist is reminded. */
  callbackReminderLeadMs: number;
  /** After a missed deadline, how often the owner is chased again. */
  reminderRepeatMs: number;
  /** A phone outcome must be recorded this long before the cancelled session starts. */
  phoneOutcomeLeadMs: number;
  /** ...but the therapist always gets at least this long to make the call. */
  phoneOutcomeMinimumMs: number;
  /**
   * A session starting within this is imminent: a person's phone call is due before it starts,
   * support is asked in parallel when there is no time for the therapist first, and a client told
   * only by message is checked for evidence of delivery before the session.
   */
  imminentWindowMs: number;
  /** How long a message is given to show it was delivered before a person is asked to phone. */
  deliveryGraceMs: number;
  /** The attendance record and clinical note are due this long after the case opens. */
  documentationDeadlineMs: number;
  /** After the therapist's reminder, how long before support is asked to add the records. */
  documentationGraceMs: number;
  /** The next-session record is due at least this long before the new session. */
  nextSessionRecordLeadMs: number;
  /** How often the records system is checked while documentation is outstanding. */
  documentationCheckIntervalMs: number;
  /** An absence longer than this (cancellation to expected return) escalates to the network team. */
  significantAbsenceMs: number;
  /** Once the expected return has passed silently, how often therapist, provider and client hear. */
  absenceUpdateCadenceMs: number;
  /** A case is late when its next deadline has passed by more than this. */
  lateMarginMs: number;
  /** How long a team has to acknowledge an escalation before it is alerted again and a lead hears. */
  escalationAckWindowMs: number;
  /** How long risk duty has to acknowledge a risk alert before it is re-sent up the ladder. */
  riskAckWindowMs: number;
  /** How often an unacknowledged risk alert is sent again. */
  riskChaseRepeatMs: number;
  /** How long the network team has to take on a client who cannot wait. */
  cannotWaitResponseMs: number;
  /** How long a client's link stays valid. */
  clientLinkTtlMs: number;
  /** Quiet hours in UK local time: reminders and updates to clients wait until the end hour. */
  quietHoursStartHour: number;
  quietHoursEndHour: number;
}

/** Defaults a clinical lead would accept; each can be overridden through POLICY_JSON. */
export const DEFAULT_POLICY: Policy = {
  contactWithinMs: 1 * HOUR,
  clientResponseWindowMs: 2 * DAY,
  choiceCutoffBeforeSlotMs: 2 * HOUR,
  followUpWindowMs: 1 * DAY,
  callbackReminderLeadMs: 2 * HOUR,
  reminderRepeatMs: 1 * DAY,
  phoneOutcomeLeadMs: 1 * HOUR,
  phoneOutcomeMinimumMs: 30 * MINUTE,
  imminentWindowMs: 2 * HOUR,
  deliveryGraceMs: 15 * MINUTE,
  documentationDeadlineMs: 1 * DAY,
  documentationGraceMs: 1 * DAY,
  nextSessionRecordLeadMs: 2 * HOUR,
  documentationCheckIntervalMs: 4 * HOUR,
  significantAbsenceMs: 14 * DAY,
  absenceUpdateCadenceMs: 3 * DAY,
  lateMarginMs: 1 * HOUR,
  escalationAckWindowMs: 1 * DAY,
  riskAckWindowMs: 1 * HOUR,
  riskChaseRepeatMs: 1 * HOUR,
  cannotWaitResponseMs: 4 * HOUR,
  clientLinkTtlMs: 14 * DAY,
  quietHoursStartHour: 20,
  quietHoursEndHour: 8,
};

/** A carried policy completed with today's defaults for settings added since the case started. */
export function withDefaults(policy: Partial<Policy>): Policy {
  return { ...DEFAULT_POLICY, ...policy };
}

/**
 * When the client's choice is due: the response window, but never later than the cutoff before
 * the earliest offered slot, and never sooner than an hour from now (or the whole window, if
 * an operator set it shorter than an hour).
 */
export function choiceDeadline(policy: Policy, now: number, slots: readonly number[]): number {
  const byWindow = now + policy.clientResponseWindowMs;
  const earliest = Math.min(...slots);
  const byCutoff = earliest - policy.choiceCutoffBeforeSlotMs;
  return Math.max(Math.min(byWindow, byCutoff), now + Math.min(HOUR, policy.clientResponseWindowMs));
}

/** Whether the session starts within the imminent window (or has started). */
export function isImminent(policy: Policy, now: number, sessionStart: number): boolean {
  return sessionStart - now <= policy.imminentWindowMs;
}

/**
 * When a phone outcome is due: the lead time before the session, with a minimum time to call;
 * for an imminent session, before it starts, whatever is left (halfway, so support still has time).
 */
export function phoneOutcomeDeadline(policy: Policy, now: number, sessionStart: number): number {
  if (sessionStart <= now) return now + policy.phoneOutcomeMinimumMs;
  const normal = Math.max(sessionStart - policy.phoneOutcomeLeadMs, now + policy.phoneOutcomeMinimumMs);
  if (normal < sessionStart && !isImminent(policy, now, sessionStart)) return normal;
  return Math.min(normal, now + Math.floor((sessionStart - now) / 2));
}

/**
 * Whether the therapist has time to phone first and, failing that, support still has time before
 * the session: if not, support is asked in parallel at once.
 */
export function supportInParallel(policy: Policy, now: number, sessionStart: number): boolean {
  return sessionStart - now < policy.phoneOutcomeLeadMs + policy.phoneOutcomeMinimumMs;
}

/**
 * When a client told only by message must show evidence that they know (a delivery receipt,
 * opening their link, choosing): the start of the imminent window, but never sooner than the
 * delivery grace (or half the time left) after sending, and never after the session.
 */
export function toldEvidenceDue(policy: Policy, sentAt: number, sessionStart: number): number {
  if (sessionStart <= sentAt) return sentAt;
  const grace = Math.min(policy.deliveryGraceMs, Math.floor((sessionStart - sentAt) / 2));
  return Math.min(Math.max(sessionStart - policy.imminentWindowMs, sentAt + grace), sessionStart);
}

/** When the therapist is reminded of a promised callback (now, if the lead time has passed). */
export function callbackReminderAt(policy: Policy, now: number, callbackBy: number): number {
  return Math.max(callbackBy - policy.callbackReminderLeadMs, now);
}

/** When the next-session record is due: the documentation deadline, but before the new session. */
export function nextSessionRecordDue(policy: Policy, now: number, newSession: number): number {
  const beforeSession = newSession - policy.nextSessionRecordLeadMs;
  return Math.max(Math.min(now + policy.documentationDeadlineMs, beforeSession), now + Math.min(HOUR, policy.documentationDeadlineMs));
}

/** Whether an absence from `from` until `expectedReturn` counts as significant. */
export function isSignificantAbsence(policy: Policy, from: number, expectedReturn: number): boolean {
  return expectedReturn - from > policy.significantAbsenceMs;
}

/** The first "absence ran over" check: the end of the expected return day, UK time. */
export function absenceOverrunAt(expectedReturnDate: string): number {
  return ukLocalToInstant(expectedReturnDate, 24) - 1;
}

/** The first moment the therapist can see clients again: the start of the expected return day, UK time. */
export function returnsAt(expectedReturnDate: string): number {
  return ukLocalToInstant(expectedReturnDate, 0);
}

/** Whether the instant falls in the quiet hours (UK local time), when clients are not messaged. */
export function inQuietHours(policy: Policy, instant: number): boolean {
  const hour = ukHour(instant);
  const { quietHoursStartHour: start, quietHoursEndHour: end } = policy;
  if (start === end) return false;
  return start > end ? hour >= start || hour < end : hour >= start && hour < end;
}

/** The end of the quiet hours the instant falls in, or the instant itself outside them. */
export function afterQuietHours(policy: Policy, instant: number): number {
  if (!inQuietHours(policy, instant)) return instant;
  const date = ukDate(instant);
  const today = ukLocalToInstant(date, policy.quietHoursEndHour);
  if (today > instant) return today;
  // The next calendar day (by date, not by 24 hours, which the clock change can make two days).
  const next = new Date(Date.parse(`${date}T12:00:00Z`) + DAY).toISOString().slice(0, 10);
  return ukLocalToInstant(next, policy.quietHoursEndHour);
}
