/**
 * The case: one cancelled session followed through to rebooking and documentation.
 * These types cross the workflow boundary (input, query results), so they are plain data.
 */
import type { ContactMethod, Reason } from './api';
import type { Policy } from './policy';

export type RecordsMode = 'mpb' | 'attestation';

export interface CaseInput {
  caseId: string;
  /** One absence per submission; every case of the submission shares it (W8, W17). */
  absenceId: string;
  /** Case ids of the other sessions cancelled in the same submission. */
  siblingCaseIds: string[];
  submittedAt: string;
  therapist: { id: string; name: string; email: string };
  reason: Reason;
  expectedReturn?: string;
  session: { id: string; startsAt: string };
  client: { ref: string; firstName: string; preferredContact: ContactMethod; email?: string; phone?: string };
  rebook: { slots: string[] } | { callbackBy: string };
  risk?: { concern: boolean; note?: string };
  policy: Policy;
  recordsMode: RecordsMode;
}

export const STAGES = [
  'contacting',
  'awaiting-choice',
  'awaiting-callback',
  'awaiting-phone-outcome',
  'awaiting-follow-up',
  'awaiting-documentation',
  'completed',
  'closed',
] as const;
export type Stage = (typeof STAGES)[number];

export const TEAMS = ['network', 'risk', 'support'] as const;
/** network: clinical network team; risk: risk duty; support: the provider's support desk. */
export type Team = (typeof TEAMS)[number];

export type Owner = 'client' | 'therapist' | Team;

export const RECORDS = ['attendance', 'clinicalNote', 'nextSession'] as const;
export type RecordName = (typeof RECORDS)[number];

export const CLOSE_REASONS = ['client-withdrew', 'discharged', 'handed-over', 'other'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

export interface Duty {
  id: string;
  /** What has to happen, in plain words without personal data. */
  what: string;
  owner: Owner;
  deadline: string;
  openedAt: string;
  metAt?: string;
  metBy?: string;
}

export interface Escalation {
  team: Team;
  reason: string;
  at: string;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
}

export type TimelineKind = 'message' | 'escalation' | 'duty' | 'event';

export interface TimelineEntry {
  at: string;
  kind: TimelineKind;
  /** Plain words, no personal data: safe for staff pages and the audit trail. */
  text: string;
  channel?: string;
  outcome?: 'sent' | 'failed';
  team?: Team;
  by?: string;
}

export interface RecordState {
  done: boolean;
  at?: string;
  by?: string;
  source?: RecordsMode;
}

export interface CaseView {
  caseId: string;
  absenceId: string;
  siblingCaseIds: string[];
  stage: Stage;
  /** One sentence saying what the case is waiting for (no client name). */
  status: string;
  therapistId: string;
  therapistName: string;
  clientFirstName: string;
  preferredContact: ContactMethod;
  sessionStartsAt: string;
  offeredSlots: string[];
  bookedSlot?: string;
  callbackBy?: string;
  expectedReturn?: string;
  nextDeadline?: string;
  duties: Duty[];
  escalations: Escalation[];
  timeline: TimelineEntry[];
  risk: boolean;
  /**
   * What the therapist wrote about the risk when cancelling (free text, personal data): shown on
   * the staff case page only; never in the timeline, emails, search attributes or logs.
   */
  riskNote?: string;
  records: Record<RecordName, RecordState>;
  recordsMode: RecordsMode;
  recordsUnavailable: boolean;
  closed?: { by: string; reason: CloseReason; note?: string; at: string };
  /** Messages and checks still under way (retrying channels count here). */
  sending: number;
}
