/**
 * The contract between the case workflow and its activities. Activities render and deliver
 * messages (the workflow passes facts, never text), so wording and privacy rules live in one
 * place, beside the channels.
 */
import type { ContactMethod } from './api';
import type { RecordName, Team } from './case';

/** Failure types the workflow reacts to; every one is raised non-retryable. */
export const FailureType = {
  /** The channel refused the recipient for good (bad address, unknown number, 5xx). */
  ChannelRejected: 'ChannelRejected',
  /** The channel is misconfigured (authentication, missing settings): a person must fix it. */
  ChannelMisconfigured: 'ChannelMisconfigured',
  /** The workflow built a notice the channel cannot render (a bug, not a delivery problem). */
  InvalidNotice: 'InvalidNotice',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

export type ClientMessageKind = 'slotOffer' | 'callbackPromise' | 'absenceUpdate' | 'confirmation';

export interface ClientNotice {
  caseId: string;
  /** Names the step of the case; with the attempt it makes the message id deterministic. */
  step: string;
  kind: ClientMessageKind;
  channel: 'email' | 'sms';
  to: { email?: string; phone?: string };
  firstName: string;
  sessionStartsAt: string;
  slots?: string[];
  callbackBy?: string;
  bookedSlot?: string;
  expectedReturn?: string;
}

export type TherapistMessageKind =
  | 'callTask'
  | 'callbackReminder'
  | 'followUpDuty'
  | 'confirmation'
  | 'documentationReminder'
  | 'absenceOverrunReminder';

export interface TherapistNotice {
  caseId: string;
  step: string;
  kind: TherapistMessageKind;
  to: string;
  therapistName: string;
  clientRef: string;
  clientFirstName: string;
  sessionStartsAt: string;
  deadline?: string;
  /** For call tasks: the client's chosen method, and whether a voicemail may be left. */
  contact?: { method: ContactMethod; phone?: string; voicemailAllowed: boolean; purpose: 'cancel' | 'absenceUpdate' | 'followUp' };
  slots?: string[];
  callbackBy?: string;
  bookedSlot?: string;
  expectedReturn?: string;
  missingRecords?: RecordName[];
}

export type ProviderNoticeKind = 'absenceExtended' | 'absenceOverrun';

export interface ProviderNotice {
  caseId: string;
  step: string;
  kind: ProviderNoticeKind;
  therapistRef: string;
  sessionStartsAt: string;
  expectedReturn?: string;
}

export interface EscalationNotice {
  caseId: string;
  step: string;
  team: Team;
  /** Plain words for staff, no client details (they follow the link to the case page). */
  reason: string;
  therapistRef: string;
  sessionStartsAt: string;
  deadline?: string;
}

export interface Delivery {
  channel: 'email' | 'sms';
  messageId: string;
  acceptedAt: string;
}

export interface RecordsQuery {
  caseId: string;
  sessionId: string;
  clientRef: string;
  therapistRef: string;
  cancelledAt: string;
}

export type RecordsStatus = Record<RecordName, boolean>;

export interface CaseActivities {
  notifyClient(notice: ClientNotice): Promise<Delivery>;
  notifyTherapist(notice: TherapistNotice): Promise<Delivery>;
  notifyProvider(notice: ProviderNotice): Promise<Delivery>;
  escalate(notice: EscalationNotice): Promise<Delivery>;
  /** Asks the records system (MPB) which of the three records exist; throws while it is down. */
  checkRecords(query: RecordsQuery): Promise<RecordsStatus>;
}
