/**
 * A therapist's absence as its own workflow: the one place that knows every case of the absence
 * (across submissions), the expected return, the slot ledger and who covers. Types, signals,
 * updates and the query shared by the absence workflow, the case workflow and the web app.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ContactMethod } from './api';
import type { Policy } from './policy';

export const ABSENCE_WORKFLOW_PREFIX = 'absence-';

/** The absence's workflow id: from the keyed absence id, never a name. */
export function absenceWorkflowId(absenceId: string): string {
  return `${ABSENCE_WORKFLOW_PREFIX}${absenceId}`;
}

/** A covering clinician: who takes the absent therapist's calls and follow-ups. */
export interface Cover {
  ref: string;
  name: string;
  email: string;
}

export interface AbsenceInput {
  absenceId: string;
  therapist: { id: string; name: string; email: string };
  policy: Policy;
  openedAt: string;
  /** Events after which a run continues as new (default 5,000); tests set it low to prove the carry-over. */
  historyBudget?: number;
}

/** A case joining the absence: what the absence needs to coordinate it and, if its booking is withdrawn after it ends, to tell the client. */
export interface AbsenceJoin {
  caseId: string;
  sessionStartsAt: string;
  submittedAt: string;
  /** The expected return this submission gave, if any. */
  expectedReturn?: string;
  client: { ref: string; firstName: string; preferredContact: ContactMethod; email?: string; phone?: string };
  recordsMode: 'mpb' | 'attestation';
}

/** What a case tells its absence when its booking changes and when it ends. */
export interface CaseReport {
  caseId: string;
  /** The case's stage when it reported (not kept current between reports). */
  stage: string;
  open: boolean;
  bookedSlot?: string;
}

/** What the absence tells its cases: the expected return, whether the therapist is back, who covers. */
export interface AbsenceNews {
  expectedReturn?: string;
  returned: boolean;
  cover?: Cover;
  by?: string;
}

export interface SlotClaim {
  caseId: string;
  slot: string;
}

export interface ReturnReport {
  by: string;
  name?: string;
}

export interface AbsenceReportUpdate {
  by: string;
  name?: string;
  expectedReturn: string;
}

export interface CoverAssignment {
  by: string;
  /** Absent: support covers again. */
  cover?: Cover;
}

export interface AbsenceSession {
  caseId: string;
  clientFirstName: string;
  sessionStartsAt: string;
  /** The case's stage at its last report to the absence (on joining, booking and ending); the case's own view is current. */
  stage: string;
  open: boolean;
  bookedSlot?: string;
}

export interface AbsenceNotice {
  to: 'provider' | 'network';
  kind: string;
  expectedReturn?: string;
  at: string;
  status: 'sending' | 'sent' | 'failed';
}

/** The absence as the case page shows it. Carries client first names: staff pages only. */
export interface AbsenceView {
  absenceId: string;
  therapistId: string;
  therapistName: string;
  openedAt: string;
  expectedReturn?: string;
  returnedAt?: string;
  /** Whether the therapist is away now (an expected return in the future, not reported back). */
  away: boolean;
  /** Who takes the absent therapist's calls: a covering clinician, or support. */
  cover?: Cover;
  sessions: AbsenceSession[];
  notices: AbsenceNotice[];
  /** Open duties of the absence itself (a notice that could not be sent, a rebooking). */
  duties: { what: string; owner: string; deadline: string }[];
}

export const joinAbsenceSignal = defineSignal<[AbsenceJoin]>('joinAbsence');
export const caseReportSignal = defineSignal<[CaseReport]>('caseReport');
export const releaseSlotSignal = defineSignal<[SlotClaim]>('releaseSlot');

export const claimSlotUpdate = defineUpdate<{ slot: string }, [SlotClaim]>('claimSlot');
export const reportAbsenceReturnUpdate = defineUpdate<{ expectedReturn?: string }, [AbsenceReportUpdate]>('reportExpectedReturn');
export const reportBackUpdate = defineUpdate<{ returnedAt: string }, [ReturnReport]>('reportBack');
export const assignCoverUpdate = defineUpdate<{ cover?: Cover }, [CoverAssignment]>('assignCover');

export const absenceViewQuery = defineQuery<AbsenceView>('absenceView');

/** Sent by the absence to each of its open cases. */
export const absenceNewsSignal = defineSignal<[AbsenceNews]>('absenceNews');
/** Sent by the absence to each of its open cases when the expected return has passed with no news. */
export const absenceOverrunSignal = defineSignal<[]>('absenceOverrun');
