/**
 * The case's state, events and commands: plain data shared by the pure decision core
 * (core.ts), its views (view.ts) and the Temporal shell (shell.ts). Nothing here imports
 * Temporal or a schema library, so the core runs in a unit test as it runs in a workflow.
 */
import type {
  ClientMessageKind,
  ClientNotice,
  Delivery,
  DeliveryReport,
  EscalationNotice,
  ProviderNotice,
  RecordsQuery,
  RecordsStatus,
  SmsStatusQuery,
  TherapistNotice,
} from '../../src/shared/activities';
import type {
  CaseInput,
  CloseReason,
  DeliveryStatus,
  ObligationKind,
  Outcome,
  Owner,
  RecordName,
  RecordState,
  Stage,
  Team,
  TimelineEntry,
} from '../../src/shared/case';
import type { AbsenceNews, CaseReport, Cover } from '../../src/shared/absence';
import type {
  Acknowledgement,
  Closure,
  PhoneOutcome,
  RecordConfirmation,
  Rebooking,
  RiskReport,
  StaffAction,
  UnhappyReport,
} from '../../src/shared/messages';

/** An obligation: someone must do something by a deadline, and is chased if they do not. */
export interface Obligation {
  id: string;
  kind: ObligationKind;
  what: string;
  owner: Owner;
  opened: number;
  due: number;
  /** When the core next looks at it: the deadline, then each chase after. */
  chaseAt: number;
  /** A reminder before the deadline (a promised callback), if one is still to go. */
  remindAt?: number;
  chases: number;
  /** Phone attempts that did not reach the client. */
  attempts?: number;
  clientFacing: boolean;
  /** The escalation that alerted the owner, if any. */
  esc?: string;
  /** For records obligations: which records it covers. */
  records?: RecordName[];
  /** For a records chase waiting on an MPB check before it reminds anyone. */
  checking?: boolean;
  /** Given to support or a covering clinician because the therapist is away: it goes back on their return. */
  covering?: boolean;
  done?: { at: number; by: string; outcome: Outcome; note?: string };
}

/** An alert to a team, open until someone of that team (or a lead) acknowledges it. */
export interface Escalation {
  id: string;
  team: Team;
  reason: string;
  /** Repeated client actions of one kind have one effect while their escalation is open (S2). */
  topic?: string;
  at: number;
  /** The acknowledgement obligation. */
  ob: string;
  /** Respond-by shown in the alert, if the escalation is about a task with a deadline. */
  deadline?: number;
  alerts: number;
  lastAlert: number;
  /** Teams copied in as the escalation climbed its ladder. */
  copied: Team[];
  delivery: DeliveryStatus;
  deliveryNote?: string;
  ack?: { at: number; by: string; note?: string };
}

export type Audience = 'client' | 'therapist' | 'provider' | 'team';

/** Why a client message goes: first notice, the answer to the client's own action, or an update. */
export type ClientPurpose = 'first' | 'response' | 'update';

export interface Message {
  key: string;
  to: Audience;
  kind: string;
  /** Plain words for the timeline (no personal data). */
  label: string;
  channel?: 'email' | 'sms';
  status: DeliveryStatus | 'deferred';
  at: number;
  /** A deferred client message goes at this time (after the quiet hours). */
  sendAt?: number;
  purpose?: ClientPurpose;
  /** A deferred client message's own facts (absence date and the like), fixed when it was decided. */
  facts?: Partial<ClientNotice>;
  esc?: string;
  note?: string;
}

export interface CaseState {
  input: CaseInput;
  stage: Stage;
  seq: number;
  expectedReturn?: string;
  offeredSlots: string[];
  /** Offered times another case of the absence has claimed. */
  takenSlots: string[];
  /** Offered times the therapist cannot keep: before their expected return. */
  awaySlots: string[];
  bookedSlot?: string;
  bookedAt?: number;
  withdrawnSlots: string[];
  callbackBy?: string;
  obligations: Obligation[];
  escalations: Escalation[];
  messages: Message[];
  timeline: TimelineEntry[];
  timelineDropped: number;
  risk: boolean;
  riskNote?: string;
  records: Record<RecordName, RecordState>;
  recordsUnavailable: boolean;
  /** Evidence that the client knows of the cancellation. */
  told?: { at: number; how: 'delivered' | 'client-acted' | 'phone' };
  /** When a client told only by message must show evidence, or a person phones (D4, D7). */
  toldCheckAt?: number;
  /** What the absence last said: whether the therapist is back, and who covers while they are away. */
  absence: { returned: boolean; cover?: Cover };
  /** What the case last told its absence (open or ended, and the booking), so it reports only changes. */
  reported?: string;
  /**
   * Set once the case follows up at once when the absence leaves no offered time to choose (the
   * shell's patch said yes), so an offer still being sent when that news came follows it too.
   */
  followUpWhenNothingLeft?: true;
  /** The next MPB check (records mode mpb). */
  docsCheckAt?: number;
  closed?: { by: string; reason: CloseReason; note?: string; at: number; riskDisposition?: string; recordsWaiver?: string };
}

/** Everything that can happen to a case. */
export type CaseEvent =
  | { type: 'start' }
  /** A timer fired: everything due by now is handled. */
  | { type: 'tick' }
  | { type: 'sent'; key: string; delivery: Delivery }
  | { type: 'sendFailed'; key: string; reason: string }
  | { type: 'deliveryReport'; report: DeliveryReport }
  | { type: 'recordsChecked'; found?: RecordsStatus; error?: string }
  | { type: 'clientSeen' }
  | { type: 'chooseSlot'; slot: string }
  | { type: 'requestCall' }
  | ({ type: 'phoneOutcome' } & PhoneOutcome)
  | ({ type: 'rebooking' } & Rebooking)
  /**
   * `keepChoosing`: the rule for cases whose history was recorded before a person took over a
   * case left with no offered time to choose (the shell's patch says which): it waits for the
   * choice deadline instead.
   * `dateBeforeReturn`: the rule for cases whose history was recorded before news that both moves
   * the return and says the therapist is back (a case joining an absence after the return) took the
   * return first: it applied the moved date as if the therapist were still away (withdrawing times
   * and a booking before it, telling the client the date), then the return.
   * `keepHeldUpdate`: the rule for cases whose history was recorded before the therapist's return
   * dropped updates about the absence held for the morning: they were sent, no longer true.
   */
  | { type: 'absence'; news: AbsenceNews; keepChoosing?: boolean; dateBeforeReturn?: boolean; keepHeldUpdate?: boolean }
  /**
   * `sendAfterReturn`: the rule for cases whose history was recorded before an overrun that reaches
   * the case after the therapist's return was ignored: the client was still told "no date yet".
   */
  | { type: 'absenceOverrun'; sendAfterReturn?: boolean }
  | { type: 'slotTaken'; slot: string; from?: string }
  | ({ type: 'confirmRecord' } & RecordConfirmation)
  | ({ type: 'recordsUnavailable' } & StaffAction)
  | ({ type: 'raiseRisk' } & RiskReport)
  | ({ type: 'unhappy' } & UnhappyReport)
  | ({ type: 'acknowledge' } & Acknowledgement)
  | ({ type: 'close' } & Closure);

/** What the shell must carry out. Every send names a key; its result comes back as an event. */
export type Command =
  | { type: 'notifyClient'; key: string; label: string; notice: ClientNotice }
  | { type: 'notifyTherapist'; key: string; label: string; notice: TherapistNotice }
  | { type: 'notifyProvider'; key: string; label: string; notice: ProviderNotice }
  | { type: 'escalate'; key: string; label: string; notice: EscalationNotice }
  | { type: 'smsStatus'; key: string; query: SmsStatusQuery }
  | { type: 'checkRecords'; query: RecordsQuery }
  | { type: 'reportToAbsence'; report: CaseReport };

export type { ClientMessageKind };
