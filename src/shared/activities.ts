/**
 * The contract between the case workflow and its activities. Activities render and deliver
 * messages (the workflow passes facts, never text), so wording and privacy rules live in one
 * place, beside the channels.
 */
import type { ContactMethod } from './api';
import type { CaseInput, RecordName, Team } from './case';

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

/**
 * slotOffer and callbackPromise are first notices of a cancellation; absenceUpdate keeps the
 * client informed; confirmation answers their choice; bookingWithdrawn tells them a new session
 * that fell inside a longer absence cannot go ahead.
 */
export type ClientMessageKind = 'slotOffer' | 'callbackPromise' | 'absenceUpdate' | 'confirmation' | 'bookingWithdrawn';

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
  /** For bookingWithdrawn: the session that will not go ahead. */
  withdrawnSlot?: string;
  /** Who will contact the client: their usual contact, or someone from the team while they are away. */
  contactBy?: 'therapist' | 'team';
}

export type TherapistMessageKind =
  | 'callTask'
  | 'callbackReminder'
  | 'followUpDuty'
  | 'confirmation'
  | 'documentationReminder'
  | 'absenceOverrunReminder';

/**
 * Why a person is asked to phone: cancel (tell of the cancellation and rebook), absenceUpdate,
 * followUp (no choice made), notReached (support could not reach the client either).
 */
export type CallPurpose = 'cancel' | 'absenceUpdate' | 'followUp' | 'notReached';

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
  contact?: { method: ContactMethod; phone?: string; voicemailAllowed: boolean; purpose: CallPurpose };
  slots?: string[];
  callbackBy?: string;
  bookedSlot?: string;
  expectedReturn?: string;
  missingRecords?: RecordName[];
}

/** absenceStarted: a therapist is away with sessions cancelled; absenceExtended / absenceShortened: the return moved; absenceOverrun: it passed; absenceEnded: the therapist is back. */
export type ProviderNoticeKind = 'absenceStarted' | 'absenceExtended' | 'absenceShortened' | 'absenceOverrun' | 'absenceEnded';

export interface ProviderNotice {
  /** A case of the absence, for the link (the case page shows the whole absence). */
  caseId: string;
  step: string;
  kind: ProviderNoticeKind;
  therapistRef: string;
  sessionStartsAt: string;
  expectedReturn?: string;
  /** How many sessions of the absence are cancelled so far. */
  sessions?: number;
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
  /** 1 for the first alert; higher for each chase of an unacknowledged escalation. */
  alert?: number;
  /**
   * Who this copy goes to, when not the escalation's own team: a rung up the ladder copied in
   * because the team has not acknowledged it, or support asked to pass on an undelivered alert.
   */
  recipient?: Team;
}

export interface Delivery {
  channel: 'email' | 'sms';
  messageId: string;
  acceptedAt: string;
  /** Notify's id for an SMS, to follow its delivery status. */
  notifyId?: string;
  /**
   * The channel already knows the message reached its recipient (the development mailbox); a real
   * relay's acceptance is not delivery.
   */
  delivered?: boolean;
}

/** What finally became of a message: from Notify's status, or a bounce (RFC 3464) for email. */
export interface DeliveryReport {
  /** The case step that sent it (from the deterministic Message-ID or the Notify reference). */
  step: string;
  status: 'delivered' | 'failed';
  /** Plain words, no personal data, e.g. "permanent-failure" or "5.1.1 mailbox unknown". */
  reason?: string;
}

export interface SmsStatusQuery {
  caseId: string;
  step: string;
  notifyId: string;
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
  /**
   * Follows an SMS until Notify says it was delivered or failed. While Notify still reports it as
   * on its way, the activity fails (retryably) and Temporal asks again later with backoff.
   */
  smsStatus(query: SmsStatusQuery): Promise<DeliveryReport>;
  /**
   * Starts a case the absence decided on (a follow-on for a finished case whose booking a longer
   * absence withdrew). Idempotent: a case already started under that id is left as it is.
   */
  startCase(input: CaseInput): Promise<void>;
}
