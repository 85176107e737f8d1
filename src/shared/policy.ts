/**
 * Every duration and threshold the cancellation workflow uses, in one pure module.
 * A case receives its policy as workflow input, so a running case keeps the policy it started
 * with even when an operator changes the defaults.
 */
import { z } from 'zod';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const policySchema = z
  .object({
    /** A new case must have told the client (or handed the call to someone) within this. */
    contactWithinMs: z.number().int().positive(),
    /** How long a client has to pick one of the offered slots. */
    clientResponseWindowMs: z.number().int().positive(),
    /** The choice must be made at least this long before the earliest offered slot. */
    choiceCutoffBeforeSlotMs: z.number().int().nonnegative(),
    /** The therapist's follow-up duty when the client has not chosen. */
    followUpWindowMs: z.number().int().positive(),
    /** How long before a promised callback the therapist is reminded. */
    callbackReminderLeadMs: z.number().int().positive(),
    /** After a missed callback or follow-up, how often the therapist is reminded again. */
    reminderRepeatMs: z.number().int().positive(),
    /** A phone outcome must be recorded this long before the cancelled session starts. */
    phoneOutcomeLeadMs: z.number().int().nonnegative(),
    /** ...but the therapist always gets at least this long to make the call. */
    phoneOutcomeMinimumMs: z.number().int().positive(),
    /** Documentation is due this long after the case opens ("at the earliest opportunity"). */
    documentationDeadlineMs: z.number().int().positive(),
    /** After the reminder, how long before support is asked to add the records. */
    documentationGraceMs: z.number().int().positive(),
    /** How often the records system is checked while documentation is outstanding. */
    documentationCheckIntervalMs: z.number().int().positive(),
    /** An absence longer than this (cancellation to expected return) escalates to the network team. */
    significantAbsenceMs: z.number().int().positive(),
    /** Once the expected return has passed silently, how often therapist and provider are told. */
    absenceUpdateCadenceMs: z.number().int().positive(),
    /** A case is late when its next deadline has passed by more than this. */
    lateMarginMs: z.number().int().nonnegative(),
    /** An escalation not acknowledged within this window makes the case stuck. */
    escalationAckWindowMs: z.number().int().positive(),
    /** How long a client's link stays valid. */
    clientLinkTtlMs: z.number().int().positive(),
  })
  .strict();

export type Policy = z.infer<typeof policySchema>;

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
  documentationDeadlineMs: 1 * DAY,
  documentationGraceMs: 1 * DAY,
  documentationCheckIntervalMs: 4 * HOUR,
  significantAbsenceMs: 14 * DAY,
  absenceUpdateCadenceMs: 3 * DAY,
  lateMarginMs: 1 * HOUR,
  escalationAckWindowMs: 1 * DAY,
  clientLinkTtlMs: 14 * DAY,
};

/** Merges operator overrides onto the defaults; throws a ZodError naming the bad key. */
export function resolvePolicy(overrides: unknown): Policy {
  const partial = policySchema.partial().parse(overrides ?? {});
  return policySchema.parse({ ...DEFAULT_POLICY, ...partial });
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

/** When a phone outcome is due: before the session starts, with a minimum time to call. */
export function phoneOutcomeDeadline(policy: Policy, now: number, sessionStart: number): number {
  return Math.max(sessionStart - policy.phoneOutcomeLeadMs, now + policy.phoneOutcomeMinimumMs);
}

/** When the therapist is reminded of a promised callback (now, if the lead time has passed). */
export function callbackReminderAt(policy: Policy, now: number, callbackBy: number): number {
  return Math.max(callbackBy - policy.callbackReminderLeadMs, now);
}

/** Whether an absence from `from` until `expectedReturn` counts as significant. */
export function isSignificantAbsence(policy: Policy, from: number, expectedReturn: number): boolean {
  return expectedReturn - from > policy.significantAbsenceMs;
}

/** The first "absence ran over" check: the end of the expected return day. */
export function absenceOverrunAt(expectedReturnDate: string): number {
  return Date.parse(`${expectedReturnDate}T23:59:59.999Z`);
}
