/**
 * Signals, updates and queries of the case workflow. Staff and client actions are Workflow
 * Updates so a refusal comes back to the page with its reason; the web layer passes a
 * per-form update id so a double click is one effect.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CaseView, CloseReason, RecordName } from './case';

export interface ChooseSlot {
  slot: string;
}
export interface ChoiceResult {
  slot: string;
}
export interface PhoneOutcome {
  by: string;
  reached: boolean;
  /** What was agreed: a new session time, or when the therapist will call back. */
  rebookedSlot?: string;
  callbackBy?: string;
  note?: string;
}
export interface Rebooking {
  by: string;
  slot: string;
}
export interface AbsenceReport {
  by: string;
  expectedReturn: string;
}
export interface RecordConfirmation {
  by: string;
  record: RecordName;
}
export interface RiskReport {
  by: string;
  /** Raised by staff on the case page, or by the client on their page. */
  source: 'therapist' | 'client';
}
export interface UnhappyReport {
  by: string;
  source: 'therapist' | 'client';
  cannotWait: boolean;
}
export interface Closure {
  by: string;
  reason: CloseReason;
  note?: string;
}
export interface StaffAction {
  by: string;
}

/** What an update answers: the case's new one-line status. */
export interface ActionResult {
  status: string;
}

export const chooseSlotUpdate = defineUpdate<ChoiceResult, [ChooseSlot]>('chooseSlot');
export const requestCallUpdate = defineUpdate<ActionResult, []>('requestCall');
export const recordPhoneOutcomeUpdate = defineUpdate<ActionResult, [PhoneOutcome]>('recordPhoneOutcome');
export const recordRebookingUpdate = defineUpdate<ActionResult, [Rebooking]>('recordRebooking');
export const reportAbsenceUpdate = defineUpdate<ActionResult, [AbsenceReport]>('reportAbsence');
export const confirmRecordUpdate = defineUpdate<ActionResult, [RecordConfirmation]>('confirmRecord');
export const reportRecordsUnavailableUpdate = defineUpdate<ActionResult, [StaffAction]>('reportRecordsUnavailable');
export const raiseRiskUpdate = defineUpdate<ActionResult, [RiskReport]>('raiseRisk');
export const reportUnhappyUpdate = defineUpdate<ActionResult, [UnhappyReport]>('reportUnhappy');
export const closeCaseUpdate = defineUpdate<ActionResult, [Closure]>('closeCase');
export const acknowledgeEscalationsUpdate = defineUpdate<ActionResult, [StaffAction]>('acknowledgeEscalations');

/** Sent by the case that received an absence report to the other cases of the same absence. */
export const absenceChangedSignal = defineSignal<[AbsenceReport]>('absenceChanged');

/** Sent by the case whose client booked a slot to the other cases of the same absence. */
export const slotTakenSignal = defineSignal<[{ slot: string; from?: string }]>('slotTaken');

export const viewQuery = defineQuery<CaseView>('view');
