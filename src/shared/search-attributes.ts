/**
 * Typed search attributes that let clinical leads find waiting, late and stuck cases in the
 * Temporal Web UI. None carries personal data.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CaseStage = defineSearchAttributeKey('CaseStage', SearchAttributeType.KEYWORD);
export const TherapistRef = defineSearchAttributeKey('TherapistRef', SearchAttributeType.KEYWORD);
export const NextDeadline = defineSearchAttributeKey('NextDeadline', SearchAttributeType.DATETIME);
export const EscalatedTo = defineSearchAttributeKey('EscalatedTo', SearchAttributeType.KEYWORD_LIST);
export const RiskConcern = defineSearchAttributeKey('RiskConcern', SearchAttributeType.BOOL);
export const DocsComplete = defineSearchAttributeKey('DocsComplete', SearchAttributeType.BOOL);
export const SessionStart = defineSearchAttributeKey('SessionStart', SearchAttributeType.DATETIME);
/** Who has the next step: client, therapist, support, network or risk; empty when nothing is open. */
export const NextStepOwner = defineSearchAttributeKey('NextStepOwner', SearchAttributeType.KEYWORD);
/**
 * A keyed digest (HMAC) of what was submitted for the session, so a later submission of the same
 * session can tell whether its details differ. Reveals nothing about them.
 */
export const SubmissionDigest = defineSearchAttributeKey('SubmissionDigest', SearchAttributeType.KEYWORD);
/** When the oldest escalation still waiting for a lead's acknowledgement was raised. */
export const UnackedEscalationSince = defineSearchAttributeKey('UnackedEscalationSince', SearchAttributeType.DATETIME);

/**
 * Teams with an escalation still waiting for acknowledgement (`risk`), each also as `<team>-late`
 * once that escalation has passed its acknowledgement window and is being chased (`risk-late`).
 * Set by the workflow from its state (a chase is a timer firing), so a visibility count finds risk
 * alerts left unacknowledged beyond their window without a clock in the query. Team names only.
 */
export const EscalationsWaiting = defineSearchAttributeKey('EscalationsWaiting', SearchAttributeType.KEYWORD_LIST);

/**
 * When the session's cancellation was submitted, in Unix seconds (the lead's charts: cancellations
 * per day). Int, not Datetime: SQL visibility gives a namespace three Datetime slots, all in use.
 */
export const CancelledAtUnix = defineSearchAttributeKey('CancelledAtUnix', SearchAttributeType.INT);
/** When the client was last rebooked, in Unix seconds; unset until then (the lead's charts: time to rebook). */
export const RebookedAtUnix = defineSearchAttributeKey('RebookedAtUnix', SearchAttributeType.INT);

/** The absence a case belongs to (a keyed id, no personal data): lists every case of one absence. */
export const AbsenceId = defineSearchAttributeKey('AbsenceId', SearchAttributeType.KEYWORD);
/** On an absence: its expected return (YYYY-MM-DD), `back` once the therapist reported back, or `unknown`. */
export const AbsenceReturn = defineSearchAttributeKey('AbsenceReturn', SearchAttributeType.KEYWORD);
/** On an absence: how many of its cases are still open. */
export const OpenCases = defineSearchAttributeKey('OpenCases', SearchAttributeType.INT);

export const SEARCH_ATTRIBUTES = [
  CaseStage,
  TherapistRef,
  NextDeadline,
  EscalatedTo,
  RiskConcern,
  DocsComplete,
  SessionStart,
  UnackedEscalationSince,
  NextStepOwner,
  SubmissionDigest,
  EscalationsWaiting,
  AbsenceId,
  AbsenceReturn,
  OpenCases,
  CancelledAtUnix,
  RebookedAtUnix,
] as const;
