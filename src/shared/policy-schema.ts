/**
 * The schema for operator overrides of the policy (POLICY_JSON). Node side only: the workflow
 * imports policy.ts, never this file, so no case rebuilds a schema.
 */
import { z } from 'zod';
import { DEFAULT_POLICY, type Policy } from './policy';

const duration = z.number().int().nonnegative();
const positive = z.number().int().positive();
const hour = z.number().int().min(0).max(23);

export const policySchema = z
  .object({
    contactWithinMs: positive,
    clientResponseWindowMs: positive,
    choiceCutoffBeforeSlotMs: duration,
    followUpWindowMs: positive,
    callbackReminderLeadMs: positive,
    reminderRepeatMs: positive,
    phoneOutcomeLeadMs: duration,
    phoneOutcomeMinimumMs: positive,
    imminentWindowMs: duration,
    deliveryGraceMs: positive,
    documentationDeadlineMs: positive,
    documentationGraceMs: positive,
    nextSessionRecordLeadMs: duration,
    documentationCheckIntervalMs: positive,
    significantAbsenceMs: positive,
    absenceUpdateCadenceMs: positive,
    lateMarginMs: duration,
    escalationAckWindowMs: positive,
    riskAckWindowMs: positive,
    riskChaseRepeatMs: positive,
    cannotWaitResponseMs: positive,
    clientLinkTtlMs: positive,
    quietHoursStartHour: hour,
    quietHoursEndHour: hour,
  })
  .strict() satisfies z.ZodType<Policy>;

/** Merges operator overrides onto the defaults; throws a ZodError naming the bad key. */
export function resolvePolicy(overrides: unknown): Policy {
  const partial = policySchema.partial().parse(overrides ?? {});
  return policySchema.parse({ ...DEFAULT_POLICY, ...partial });
}
