/**
 * The one answer to an action the case did not take (CaseService.act refused it, or the case
 * is gone): 409, and words for whoever asked. Staff read the workflow's reason as it gave it; a
 * client reads it only when it was written for them ("That time ..."), otherwise plain words
 * and a way to reach a person.
 */
import type { ActOutcome } from '../cases';

export const REFUSED_STATUS = 409;

export type NotDone = Exclude<ActOutcome<unknown>, { kind: 'done' }>;

const CLIENT_SAFE_REFUSAL = /^That time /;

export function refusalText(outcome: NotDone, audience: 'staff' | 'client'): string {
  if (audience === 'staff')
    return outcome.kind === 'refused' ? outcome.reason : 'This case has finished, so it can no longer be changed';
  return outcome.kind === 'refused' && CLIENT_SAFE_REFUSAL.test(outcome.reason)
    ? outcome.reason
    : "We could not record that choice. Please call us and we'll help you arrange a new time.";
}
