/**
 * The case: one cancelled session followed through to rebooking and documentation.
 * These types cross the workflow boundary (input, query results), so they are plain data.
 */
import type { AbsenceView, Cover } from './absence';
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
  /** The absence workflow coordinating this case with the therapist's other cases (issue 11). */
  absenceWorkflowId?: string;
  /**
   * Set when this case follows a finished case whose new session a longer absence withdrew: its
   * session is that withdrawn booking, and its client hears that it cannot go ahead.
   */
  followOn?: { fromCaseId: string };
  /**
   * Set by every start since the first upsert was saved (src/cases.ts startCaseWorkflow): the start
   * sets the search attributes of the contacting stage, and the case keeps them until it has told
   * the client or has something sooner to show (workflows/case/shell.ts). Cases started without it
   * upsert in their first task, as their recorded histories do.
   */
  attributesSetAtStart?: true;
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

/**
 * network: the clinical network team; risk: risk duty; support: the provider's support desk;
 * lead: the clinical lead(s), top of every escalation ladder.
 */
export const TEAMS = ['network', 'risk', 'support', 'lead'] as const;
export type Team = (typeof TEAMS)[number];

/** `cover`: the clinician covering an absent therapist's calls and follow-ups. */
export type Owner = 'client' | 'therapist' | 'cover' | Team;

/** The teams a member of the escalation team belongs to (the clinical lead is a role, not a team). */
export const STAFF_TEAMS = ['network', 'risk', 'support'] as const;
export type StaffTeam = (typeof STAFF_TEAMS)[number];

export const STAFF_ROLES = ['therapist', 'clinical-lead', 'escalation-team'] as const;
/**
 * therapist: their own cases only. clinical-lead: every case; the only role that closes cases.
 * escalation-team (risk duty, the clinical network team, support): every case, a therapist's
 * actions on any of them, and acknowledging escalations of their team; not closing.
 */
export type StaffRole = (typeof STAFF_ROLES)[number];

/** Who did something to a case: a member of staff (with their role and team), or the client. */
export interface Actor {
  /** The staff reference, or 'client'. */
  by: string;
  role: StaffRole | 'client';
  /** For the escalation team: which team the member belongs to. */
  team?: StaffTeam;
}

export const RECORDS = ['attendance', 'clinicalNote', 'nextSession'] as const;
export type RecordName = (typeof RECORDS)[number];

export const CLOSE_REASONS = ['client-withdrew', 'discharged', 'handed-over', 'other'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/**
 * Everything a person (or team) must do on a case is an obligation: an owner, a deadline, what
 * happens when it is missed (the chase), and who may discharge it.
 */
export const OBLIGATION_KINDS = [
  /** The client chooses one of the offered times. */
  'choose',
  /** A person phones the client to tell them of the cancellation and agree a new time. */
  'phone',
  /** The therapist calls the client back by the promised time. */
  'callback',
  /** The therapist agrees a new time with a client who has not chosen. */
  'follow-up',
  /** Support makes sure a client told only by message knows, before the session. */
  'confirm-told',
  /** A person tells a client of news the message channel could not carry (absence, new booking). */
  'tell-client',
  /** A team acknowledges an escalation: they have it in hand. */
  'acknowledge',
  /** Records on MPB: attendance and clinical note from the start; the next session once rebooked. */
  'records',
  /** Support rebooks a client whose booking cannot stand (double booking, inside a longer absence). */
  'rebook',
] as const;
export type ObligationKind = (typeof OBLIGATION_KINDS)[number];

export type Outcome = 'met' | 'handed-over' | 'waived' | 'superseded';

export interface Duty {
  id: string;
  kind: ObligationKind;
  /** What has to happen, in plain words without personal data. */
  what: string;
  owner: Owner;
  deadline: string;
  openedAt: string;
  /** When it is chased next if still open (re-notify, move up the ladder). */
  nextChaseAt?: string;
  /** How many times it has been chased. */
  chases: number;
  /** Phone attempts recorded on it that did not reach the client. */
  attempts?: number;
  /** Whether the duty is owed to the client before their session (its deadline is then before the start). */
  clientFacing: boolean;
  /** Who may discharge it, in plain words. */
  dischargedBy: string;
  /** The escalation that alerted the owner, if any. */
  escalationId?: string;
  metAt?: string;
  metBy?: string;
  outcome?: Outcome;
  /** Staff free text (the close note, a phone-outcome note): staff pages only. */
  note?: string;
}

export type DeliveryStatus = 'sending' | 'accepted' | 'delivered' | 'failed';

export interface Escalation {
  id: string;
  team: Team;
  reason: string;
  at: string;
  /** How many alerts have gone out for it (the first and every chase). */
  alerts: number;
  lastAlertAt: string;
  /** What happened to the latest alert. */
  delivery: DeliveryStatus;
  deliveryNote?: string;
  /** When it is alerted again (and a rung up the ladder hears) if still unacknowledged. */
  nextAlertAt?: string;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  acknowledgedNote?: string;
}

export type TimelineKind = 'message' | 'escalation' | 'duty' | 'event';

export interface TimelineEntry {
  at: string;
  kind: TimelineKind;
  /** Plain words, no personal data: safe for staff pages and the audit trail. */
  text: string;
  channel?: string;
  outcome?: 'sent' | 'failed' | 'delivered' | 'deferred';
  team?: Team;
  by?: string;
  /** The name of the member of staff `by` refers to, when known. */
  byName?: string;
  /** Staff free text: staff pages only, never the API or the Web UI's summaries. */
  note?: string;
}

export interface RecordState {
  done: boolean;
  at?: string;
  by?: string;
  source?: RecordsMode;
}

/** A message the case sent to the client, and what became of it. */
export interface ClientMessageView {
  key: string;
  kind: string;
  channel: 'email' | 'sms';
  status: DeliveryStatus | 'deferred';
  at: string;
  /** For a deferred message: when it goes (the end of the quiet hours). */
  sendAt?: string;
  note?: string;
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
  /**
   * The client's reference and contact details, for staff who must phone them (D3): shown on the
   * staff case page after sign-in (the read is audited); never in emails, the API or the Web UI.
   */
  clientContact: { ref: string; email?: string; phone?: string };
  sessionStartsAt: string;
  offeredSlots: string[];
  bookedSlot?: string;
  /** Bookings withdrawn because they fell inside a longer absence. */
  withdrawnSlots: string[];
  callbackBy?: string;
  expectedReturn?: string;
  nextDeadline?: string;
  /** Every obligation, open and settled, oldest first. */
  duties: Duty[];
  escalations: Escalation[];
  /** The client's messages and their delivery. */
  clientMessages: ClientMessageView[];
  /** When and how the service knows the client has heard of the cancellation. */
  told?: { at: string; how: 'delivered' | 'client-acted' | 'phone' };
  timeline: TimelineEntry[];
  /** Older timeline entries dropped to keep the case's state bounded. */
  timelineDropped: number;
  risk: boolean;
  /**
   * What the therapist wrote about the risk (free text, personal data): shown on the staff case
   * page only; never in the timeline, emails, search attributes or logs.
   */
  riskNote?: string;
  records: Record<RecordName, RecordState>;
  recordsMode: RecordsMode;
  recordsUnavailable: boolean;
  closed?: { by: string; reason: CloseReason; note?: string; at: string; riskDisposition?: string; recordsWaiver?: string };
  /** Messages and checks still under way (retrying channels count here). */
  sending: number;
  /** The times the workflow has a timer armed for (every open duty's next chase is among them). */
  timers: string[];
  /** Whether the therapist is away now, so their calls and follow-ups go to `cover` or support. */
  therapistAway: boolean;
  cover?: Cover;
  /** The case this one follows, when a longer absence withdrew that case's new session. */
  followsCaseId?: string;
  /** The absence this case belongs to, as the absence workflow sees it (added by the web app). */
  absence?: AbsenceView;
}
