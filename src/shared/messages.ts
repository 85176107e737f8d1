/**
 * Signals, updates and queries of the case workflow. Staff and client actions are Workflow
 * Updates so a refusal comes back to the page with its reason; the web layer passes a
 * per-form update id so a double click is one effect. Staff actions carry the actor's role (and
 * team), taken from their signed-in session, so the workflow can say who may discharge what.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DeliveryReport } from './activities';
import type { CaseView, CloseReason, RecordName, StaffRole, Team } from './case';

export interface ChooseSlot {
  slot: string;
}
export interface ChoiceResult {
  slot: string;
}
/** Who acted: the staff reference, with the name, role and team of their session. */
export interface StaffAction {
  by: string;
  /** Their name as staff know them, shown beside the reference on the timeline. */
  name?: string;
  role?: StaffRole;
  team?: Exclude<Team, 'lead'>;
}
export interface PhoneOutcome extends StaffAction {
  reached: boolean;
  /** What was agreed: a new session time, or when the therapist will call back. */
  rebookedSlot?: string;
  callbackBy?: string;
  /** What happened, in the caller's words (staff pages only). */
  note?: string;
  /**
   * Not reached, and the caller hands the call on now (the therapist to support, support back to the
   * therapist with the network team told) instead of trying again before the deadline.
   */
  handOver?: boolean;
}
export interface Rebooking extends StaffAction {
  slot: string;
}
export interface RecordConfirmation extends StaffAction {
  record: RecordName;
}
export interface RiskReport {
  by: string;
  name?: string;
  /** Who raised it: the client on their page, or staff on the case page (by role). */
  source: 'client' | StaffRole;
  /** What was written about the risk (staff pages only). */
  note?: string;
}
export interface UnhappyReport {
  by: string;
  source: 'therapist' | 'client';
  cannotWait: boolean;
}
export interface Closure extends StaffAction {
  reason: CloseReason;
  note?: string;
  /** A lead's decision about an unacknowledged risk alert; closing needs one while any is open. */
  riskDisposition?: string;
  /** Why records still missing on MPB will not be added; closing needs one while any are owed. */
  recordsWaiver?: string;
}
export interface Acknowledgement extends StaffAction {
  escalationId: string;
  note?: string;
}

/** What an update answers: the case's new one-line status. */
export interface ActionResult {
  status: string;
}

export const chooseSlotUpdate = defineUpdate<ChoiceResult, [ChooseSlot]>('chooseSlot');
export const requestCallUpdate = defineUpdate<ActionResult, []>('requestCall');
export const recordPhoneOutcomeUpdate = defineUpdate<ActionResult, [PhoneOutcome]>('recordPhoneOutcome');
export const recordRebookingUpdate = defineUpdate<ActionResult, [Rebooking]>('recordRebooking');
export const confirmRecordUpdate = defineUpdate<ActionResult, [RecordConfirmation]>('confirmRecord');
export const reportRecordsUnavailableUpdate = defineUpdate<ActionResult, [StaffAction]>('reportRecordsUnavailable');
export const raiseRiskUpdate = defineUpdate<ActionResult, [RiskReport]>('raiseRisk');
export const reportUnhappyUpdate = defineUpdate<ActionResult, [UnhappyReport]>('reportUnhappy');
export const closeCaseUpdate = defineUpdate<ActionResult, [Closure]>('closeCase');
export const acknowledgeEscalationUpdate = defineUpdate<ActionResult, [Acknowledgement]>('acknowledgeEscalation');

/** Sent by the absence when one of its cases has claimed a time: the others stop offering it. */
export const slotTakenSignal = defineSignal<[{ slot: string; from?: string }]>('slotTaken');

/** A bounce or delivery notification for one of the case's emails (from POST /hooks/bounces). */
export const deliveryReportSignal = defineSignal<[DeliveryReport]>('deliveryReport');

/** The client opened the link in their message: evidence that they know of the cancellation. */
export const clientSeenSignal = defineSignal<[]>('clientSeen');

export const viewQuery = defineQuery<CaseView>('view');
