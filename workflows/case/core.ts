/**
 * The case's decisions as a pure function: `decide(state, event, now, policy)` returns the new
 * state and the commands to carry out (send, escalate, check, signal). No Temporal, no clock, no
 * randomness: the shell (shell.ts) feeds events in and carries commands out, and the property
 * tests run this same code ten thousand times in seconds.
 *
 * Everything a person must do is an obligation with an owner, a deadline, a chase and who may
 * discharge it. The chase ladder (docs/safety/obligations.md):
 *   client choice -> therapist follow-up -> clinical network team;
 *   therapist phone call -> support -> clinical network team (the therapist told at once);
 *   records: therapist -> reminder -> support -> clinical network team;
 *   any escalation unacknowledged: the team again, then the next rung (support -> network,
 *   network -> clinical lead, risk duty -> network and clinical lead), and again on a cadence.
 */
import type { CallPurpose, ClientMessageKind, ClientNotice, TherapistMessageKind, TherapistNotice } from '../../src/shared/activities';
import { RECORDS, type CaseInput, type ObligationKind, type Outcome, type Owner, type RecordName, type Team, type TimelineEntry } from '../../src/shared/case';
import {
  afterQuietHours,
  callbackReminderAt,
  choiceDeadline,
  inQuietHours,
  nextSessionRecordDue,
  phoneOutcomeDeadline,
  returnsAt,
  supportInParallel,
  toldEvidenceDue,
  type Policy,
} from '../../src/shared/policy';
import { formatUk, formatUkDate } from '../../src/shared/time';
import type { CaseEvent, CaseState, ClientPurpose, Command, Escalation, Message, Obligation } from './model';

/** What a report to the absence carries that it decides on: open or ended, and the booking. */
const reportKey = (open: boolean, bookedSlot: string | undefined) => `${open ? 'open' : 'ended'}|${bookedSlot ?? ''}`;
/** What the absence knows of a case when it joins: open, nothing booked (see reportToAbsence). */
const AS_JOINED = reportKey(true, undefined);
/** Why a person follows up when the absence has left the client no offered time to choose. */
const NOTHING_LEFT = 'the absence has left none of the offered times to choose';

/** Bounds on what a case keeps, whatever arrives (S2): state must stay far below Temporal's payload limit. */
export const LIMITS = { timeline: 150, escalations: 40, obligations: 60, messages: 40, riskNote: 4_000 } as const;

const SECOND = 1_000;
/** Records duties of the therapist falling due within this of each other are chased together. */
const BATCH_WINDOW = 3_600_000;

export interface Decision {
  state: CaseState;
  commands: Command[];
}

export function initialState(input: CaseInput): CaseState {
  return {
    input,
    stage: 'contacting',
    seq: 0,
    expectedReturn: input.expectedReturn,
    offeredSlots: 'slots' in input.rebook ? [...input.rebook.slots] : [],
    takenSlots: [],
    awaySlots: [],
    withdrawnSlots: [],
    callbackBy: 'callbackBy' in input.rebook ? input.rebook.callbackBy : undefined,
    obligations: [],
    escalations: [],
    messages: [],
    timeline: [],
    timelineDropped: 0,
    risk: false,
    records: { attendance: { done: false }, clinicalNote: { done: false }, nextSession: { done: false } },
    recordsUnavailable: false,
    absence: { returned: false },
  };
}

/** The pure decision: a new state and the commands to run. The given state is left untouched. */
export function decide(state: CaseState, event: CaseEvent, now: number, policy: Policy): Decision {
  const draft = JSON.parse(JSON.stringify(state)) as CaseState;
  return { state: draft, commands: apply(draft, event, now, policy) };
}

/** The same decision made in place (the shell owns its state and need not copy it for every event). */
export function apply(state: CaseState, event: CaseEvent, now: number, policy: Policy): Command[] {
  const c = new Decider(state, now, policy);
  c.handle(event);
  c.settleDue();
  c.completeIfDone();
  c.bound();
  c.reportToAbsence();
  return c.commands;
}

/**
 * Why an action cannot be taken on the case as it stands, in words for the person who tried; or
 * undefined when it can. Updates are validated with this before they are accepted.
 */
export function refusal(state: CaseState, event: CaseEvent, now: number, _policy: Policy): string | undefined {
  const open = state.stage !== 'completed' && state.stage !== 'closed';
  const closedWhy = state.stage === 'closed' ? 'This case has been closed' : 'This case is complete';
  const future = (when: string | undefined, what: string) => {
    const ms = Date.parse(when ?? '');
    if (Number.isNaN(ms)) return `The ${what} is not a valid date and time`;
    if (ms <= now) return `The ${what} must be in the future`;
    // Once the therapist is back, the old expected return no longer bars earlier times (A9).
    if (state.expectedReturn && !state.absence.returned && ms < returnsAt(state.expectedReturn) && (what.includes('session') || what === 'slot')) {
      return `The therapist is expected back on ${formatUkDate(state.expectedReturn)}: choose a time from then on`;
    }
    return undefined;
  };
  switch (event.type) {
    case 'chooseSlot': {
      if (state.bookedSlot === event.slot) return undefined; // a repeated choice gets the same answer
      if (!open) return closedWhy;
      if (state.bookedSlot) return 'A new session has already been booked';
      if (state.stage !== 'awaiting-choice' && state.stage !== 'awaiting-follow-up') return 'This case is not waiting for a choice';
      if (!state.offeredSlots.includes(event.slot)) return 'That time was not one of the offered slots';
      if (state.takenSlots.includes(event.slot)) return 'That time has just been taken; please choose another';
      if (state.awaySlots.includes(event.slot)) return 'That time is no longer available: the therapist is away then';
      return future(event.slot, 'slot');
    }
    case 'requestCall':
      if (!open) return closedWhy;
      if (state.bookedSlot) return 'A new session has already been booked';
      if (state.stage !== 'awaiting-choice' && state.stage !== 'awaiting-follow-up') return 'This case is not waiting for a choice';
      return undefined;
    case 'phoneOutcome': {
      if (!open) return closedWhy;
      if (state.bookedSlot) return 'A new session has already been booked';
      if (event.rebookedSlot && event.callbackBy) return 'Record a new session time or a callback time, not both';
      const tellOnly = state.obligations.some((o) => !o.done && (o.kind === 'confirm-told' || o.kind === 'tell-client'));
      const hasPath = state.stage === 'awaiting-choice' || state.stage === 'awaiting-callback';
      if (event.reached && !event.rebookedSlot && !event.callbackBy && !tellOnly && !hasPath) {
        return 'Record the new session time, or when you will call the client back';
      }
      if (event.rebookedSlot) return future(event.rebookedSlot, 'new session time');
      if (event.callbackBy) return future(event.callbackBy, 'callback time');
      return undefined;
    }
    case 'rebooking':
      if (!open) return closedWhy;
      if (state.bookedSlot === event.slot) return undefined;
      if (state.bookedSlot) return 'A new session has already been booked';
      return future(event.slot, 'new session time');
    case 'confirmRecord':
      if (!open) return closedWhy;
      if (!RECORDS.includes(event.record)) return 'Unknown record';
      if (event.record === 'nextSession' && !state.bookedSlot) return 'Record the rebooking before confirming the next session in MPB';
      return undefined;
    case 'recordsUnavailable':
    case 'raiseRisk':
    case 'unhappy':
      return open ? undefined : closedWhy;
    case 'acknowledge': {
      const esc = state.escalations.find((e) => e.id === event.escalationId);
      if (!esc) return 'There is no such escalation on this case';
      if (esc.ack) return undefined; // acknowledged already: the same answer
      if (event.role !== 'clinical-lead' && event.role !== 'escalation-team') return 'Only a clinical lead or the escalation team can acknowledge escalations';
      if (esc.team === 'risk' && event.role !== 'clinical-lead' && event.team !== 'risk') return 'Only risk duty or a clinical lead can acknowledge a risk alert';
      if (esc.team === 'lead' && event.role !== 'clinical-lead') return 'Only a clinical lead can acknowledge this escalation';
      if (event.role === 'escalation-team' && event.team && event.team !== esc.team) return `Only the ${ownerName(esc.team)} or a clinical lead can acknowledge this escalation`;
      return undefined;
    }
    case 'close': {
      if (!open) return closedWhy;
      if (event.role !== undefined && event.role !== 'clinical-lead') return 'Only a clinical lead can close a case';
      if (!event.by.trim()) return 'Say who is closing the case';
      const unackedRisk = state.escalations.some((e) => e.team === 'risk' && !e.ack);
      if (unackedRisk && !event.riskDisposition?.trim()) {
        return 'Risk duty has not acknowledged the risk concern: record your decision about the risk before closing';
      }
      const owedRecords = state.obligations.some((o) => !o.done && o.kind === 'records');
      if (owedRecords && !event.recordsWaiver?.trim()) return 'Records are still owed on MPB: say why they will not be added, or add them first';
      return undefined;
    }
    default:
      return undefined;
  }
}

class Decider {
  readonly commands: Command[] = [];
  private readonly input: CaseInput;
  private readonly start: number;

  constructor(
    private readonly s: CaseState,
    private readonly now: number,
    private readonly p: Policy,
  ) {
    this.input = s.input;
    this.start = Date.parse(s.input.session.startsAt);
  }

  // ---- small helpers ---------------------------------------------------------------------------

  private get byMessage(): boolean {
    const m = this.input.client.preferredContact;
    return m === 'email' || m === 'sms';
  }
  private get voicemailAllowed(): boolean {
    return this.input.client.preferredContact === 'voicemail';
  }
  private get isOpen(): boolean {
    return this.s.stage !== 'completed' && this.s.stage !== 'closed';
  }
  private iso(ms: number = this.now): string {
    return new Date(ms).toISOString();
  }
  private nextKey(name: string): string {
    return `${name}-${++this.s.seq}`;
  }

  /** The member of staff whose action is being decided, for their name on the timeline. */
  private actor?: { by: string; name: string };

  note(entry: Omit<TimelineEntry, 'at'>): void {
    const byName = entry.by && this.actor && entry.by === this.actor.by ? { byName: this.actor.name } : {};
    this.s.timeline.push({ at: this.iso(), ...entry, ...byName });
  }

  private setStage(stage: CaseState['stage']): void {
    if (this.s.stage === stage) return;
    this.s.stage = stage;
    this.note({ kind: 'event', text: STAGE_LABELS[stage] });
  }

  open(kind: ObligationKind, owner: Owner, what: string, due: number, extra: Partial<Obligation> = {}): Obligation {
    // A deadline is always in the future, so every open obligation has a timer still to fire.
    const deadline = Math.max(due, this.now + SECOND);
    const ob: Obligation = { id: this.nextKey('ob'), kind, what, owner, opened: this.now, due: deadline, chaseAt: deadline, chases: 0, clientFacing: false, ...extra };
    this.s.obligations.push(ob);
    // An acknowledgement's own entry would repeat the escalation's, which the timeline has already.
    if (kind !== 'acknowledge') this.note({ kind: 'duty', text: `For the ${ownerName(owner)}: ${what}, by ${formatUk(deadline)}` });
    return ob;
  }

  private openObligations(kind?: ObligationKind, owner?: Owner): Obligation[] {
    return this.s.obligations.filter((o) => !o.done && (!kind || o.kind === kind) && (!owner || o.owner === owner));
  }

  settle(ob: Obligation, by: string, outcome: Outcome, note?: string): void {
    if (ob.done) return;
    ob.done = { at: this.now, by, outcome, ...(note ? { note } : {}) };
    // A task done is its escalation in hand: nobody need acknowledge it separately.
    if (outcome === 'met' && ob.esc) {
      const esc = this.s.escalations.find((e) => e.id === ob.esc);
      if (esc && !esc.ack) this.acknowledge(esc, by, 'by doing what was asked');
    }
  }

  private settleAll(kinds: ObligationKind[], by: string, outcome: Outcome): void {
    for (const ob of this.s.obligations) if (!ob.done && kinds.includes(ob.kind)) this.settle(ob, by, outcome);
  }

  private availableSlots(): string[] {
    return this.s.offeredSlots.filter((slot) => !this.s.takenSlots.includes(slot) && !this.s.awaySlots.includes(slot) && Date.parse(slot) > this.now);
  }

  /** The latest a client-facing duty may be due: the session's start, while it is still ahead. */
  private beforeSession(): number {
    return this.start > this.now ? this.start : this.now + this.p.phoneOutcomeMinimumMs;
  }

  // ---- messages --------------------------------------------------------------------------------

  private record(msg: Omit<Message, 'at' | 'status'> & { status?: Message['status'] }): Message {
    const m: Message = { at: this.now, status: 'sending', ...msg };
    this.s.messages.push(m);
    return m;
  }

  /**
   * Messages the client on their channel. Reminders and updates wait for the end of the quiet
   * hours; a first notice and the answer to the client's own action go at once.
   */
  tellClient(kind: ClientMessageKind, purpose: ClientPurpose, label: string, facts: Partial<ClientNotice> = {}): void {
    if (!this.isOpen || !this.byMessage) return;
    const channel = this.input.client.preferredContact === 'sms' ? 'sms' : 'email';
    const key = this.nextKey(`client-${kind}`);
    if (purpose === 'update' && inQuietHours(this.p, this.now)) {
      const sendAt = afterQuietHours(this.p, this.now);
      this.record({ key, to: 'client', kind, label, channel, status: 'deferred', sendAt, purpose, facts });
      this.note({ kind: 'message', channel, outcome: 'deferred', text: `Client: ${label} (waits for the morning: ${formatUk(sendAt)})` });
      return;
    }
    this.record({ key, to: 'client', kind, label, channel, purpose, facts });
    this.commands.push({ type: 'notifyClient', key, label, notice: this.clientNotice(key, kind, channel, facts) });
  }

  private clientNotice(step: string, kind: ClientMessageKind, channel: 'email' | 'sms', facts: Partial<ClientNotice>): ClientNotice {
    const { client, caseId, session } = this.input;
    return {
      caseId,
      step,
      kind,
      channel,
      to: { email: client.email, phone: client.phone },
      firstName: client.firstName,
      sessionStartsAt: session.startsAt,
      slots: this.availableSlots(),
      callbackBy: this.s.callbackBy,
      bookedSlot: this.s.bookedSlot,
      expectedReturn: this.s.expectedReturn,
      ...facts,
    };
  }

  /** Emails the therapist, or the clinician covering for them (`to: 'cover'`). */
  tellTherapist(kind: TherapistMessageKind, label: string, extra: Partial<TherapistNotice> = {}, to: Owner = 'therapist'): void {
    const key = this.nextKey(kind);
    const { caseId, client, session } = this.input;
    const person = to === 'cover' && this.s.absence.cover ? this.s.absence.cover : this.input.therapist;
    const who = to === 'cover' ? 'Covering clinician' : 'Therapist';
    this.record({ key, to: 'therapist', kind, label: `${who}: ${label}` });
    this.commands.push({
      type: 'notifyTherapist',
      key,
      label: `${who}: ${label}`,
      notice: {
        caseId,
        step: key,
        kind,
        to: person.email,
        therapistName: person.name,
        clientRef: client.ref,
        clientFirstName: client.firstName,
        sessionStartsAt: session.startsAt,
        ...extra,
      },
    });
  }

  /** A call task for the therapist (or their cover): for phone and voicemail clients, a person makes the call. */
  private callTask(purpose: CallPurpose, label: string, deadline: number, to: Owner = 'therapist'): void {
    this.tellTherapist(
      'callTask',
      label,
      {
        deadline: this.iso(deadline),
        contact: { method: this.input.client.preferredContact, phone: this.input.client.phone, voicemailAllowed: this.voicemailAllowed, purpose },
        slots: this.availableSlots(),
        callbackBy: this.s.callbackBy,
        expectedReturn: this.s.expectedReturn,
      },
      to,
    );
  }

  // ---- escalations -----------------------------------------------------------------------------

  /**
   * Alerts a team. An escalation about a task is chased through the task (its deadline is what
   * matters); any other opens the obligation to acknowledge it. A topic makes repeated reports of
   * the same thing one escalation while it is open (S2).
   */
  escalate(team: Team, reason: string, opts: { deadline?: number; topic?: string; ackWithin?: number; forTask?: Obligation } = {}): Escalation {
    if (opts.topic) {
      const same = this.s.escalations.find((e) => e.topic === opts.topic && !e.ack);
      if (same) return same;
    }
    const ackWithin = opts.ackWithin ?? (team === 'risk' ? this.p.riskAckWindowMs : this.p.escalationAckWindowMs);
    const id = this.nextKey('esc');
    const ob = opts.forTask ?? this.open('acknowledge', team, `Acknowledge the escalation: ${reason}`, this.now + ackWithin, { esc: id });
    const esc: Escalation = { id, team, reason, at: this.now, ob: ob.id, alerts: 0, lastAlert: this.now, copied: [], delivery: 'sending', ...(opts.topic ? { topic: opts.topic } : {}), ...(opts.deadline !== undefined ? { deadline: opts.deadline } : {}) };
    this.s.escalations.push(esc);
    this.note({ kind: 'escalation', team, text: `Escalated to the ${ownerName(team)}: ${reason}` });
    this.alert(esc);
    return esc;
  }

  /**
   * Sends (again) the alert of an escalation to its team and to every team copied in as it
   * climbed, one message each, so each team's delivery is known on its own.
   */
  private alert(esc: Escalation): void {
    esc.alerts++;
    esc.lastAlert = this.now;
    esc.delivery = 'sending';
    delete esc.deliveryNote;
    for (const recipient of [esc.team, ...esc.copied]) {
      const key = this.nextKey(`escalate-${recipient}`);
      const copied = recipient !== esc.team ? ` (about an escalation to the ${ownerName(esc.team)})` : '';
      const label = `${esc.alerts > 1 ? 'Reminder to' : 'Alert to'} the ${ownerName(recipient)}${copied}`;
      this.record({ key, to: 'team', kind: recipient, label, esc: esc.id });
      this.commands.push({
        type: 'escalate',
        key,
        label,
        notice: {
          caseId: this.input.caseId,
          step: key,
          team: esc.team,
          ...(recipient !== esc.team ? { recipient } : {}),
          reason: esc.reason,
          therapistRef: this.input.therapist.id,
          sessionStartsAt: this.input.session.startsAt,
          deadline: esc.deadline !== undefined ? this.iso(esc.deadline) : undefined,
          alert: esc.alerts,
        },
      });
    }
  }

  private acknowledge(esc: Escalation, by: string, note?: string): void {
    esc.ack = { at: this.now, by, ...(note ? { note } : {}) };
    // Acknowledging says the task is in hand; only the task being done discharges it.
    const ob = this.s.obligations.find((o) => o.id === esc.ob);
    if (ob && !ob.done && ob.kind === 'acknowledge') ob.done = { at: this.now, by, outcome: 'met' };
    this.note({ kind: 'event', by, team: esc.team, text: `Escalation to the ${ownerName(esc.team)} acknowledged` });
  }

  /** Asks a team to do a task: the task is an obligation, and the alert to them an escalation. */
  private task(kind: ObligationKind, team: Team, what: string, due: number, reason: string, extra: Partial<Obligation> = {}): Obligation {
    const ob = this.open(kind, team, what, due, extra);
    ob.esc = this.escalate(team, reason, { deadline: ob.due, forTask: ob }).id;
    return ob;
  }

  // ---- the course of a case ----------------------------------------------------------------------

  handle(e: CaseEvent): void {
    if ('name' in e && typeof e.name === 'string' && 'by' in e && typeof e.by === 'string') this.actor = { by: e.by, name: e.name };
    switch (e.type) {
      case 'start':
        return this.begin();
      case 'tick':
        return; // settleDue handles whatever is due
      case 'sent':
        return this.sent(e.key, e.delivery.channel, e.delivery.delivered === true, e.delivery.notifyId);
      case 'sendFailed':
        return this.failed(e.key, e.reason);
      case 'deliveryReport': {
        const msg = this.s.messages.find((m) => m.key === e.report.step);
        if (!msg) return;
        if (e.report.status === 'delivered') this.delivered(msg);
        else this.failed(msg.key, e.report.reason ?? 'not delivered');
        return;
      }
      case 'recordsChecked':
        return this.recordsChecked(e.found, e.error);
      case 'clientSeen':
        return this.toldBy('client-acted');
      case 'chooseSlot':
        if (this.s.bookedSlot === e.slot) return;
        this.toldBy('client-acted');
        return this.book(e.slot, 'client', 'response');
      case 'requestCall':
        this.toldBy('client-acted');
        if (this.s.stage === 'awaiting-choice') this.startFollowUp('the client asked to be called: none of the times suit');
        return;
      case 'phoneOutcome':
        return this.phoneOutcome(e);
      case 'rebooking':
        if (this.s.bookedSlot === e.slot) return;
        this.toldBy('phone');
        return this.book(e.slot, e.by, 'response');
      case 'absence':
        if (!this.isOpen) return;
        return this.applyNews(e);
      case 'absenceOverrun':
        // The expected return passed with no news: a client still waiting hears there is no date yet (W9).
        // Once the therapist is back that is no longer true: an overrun that arrives after the return
        // (the absence sends none then, but two signals may be delivered out of order) tells no one.
        if (this.s.absence.returned && !e.sendAfterReturn) return;
        if (this.isOpen && !this.s.bookedSlot) this.keepClientInformed('still no date for a new appointment', { expectedReturn: undefined });
        return;
      case 'slotTaken':
        return this.slotTaken(e.slot, e.from);
      case 'confirmRecord':
        return this.confirmRecord(e.record, e.by);
      case 'recordsUnavailable':
        return this.recordsUnavailable(e.by);
      case 'raiseRisk':
        return this.raiseRisk(e.source, e.by, e.note);
      case 'unhappy': {
        if (e.source === 'client') this.toldBy('client-acted');
        const topic = `${e.source}:${e.cannotWait ? 'cannot-wait' : 'unhappy'}`;
        if (this.s.escalations.some((x) => x.topic === topic && !x.ack)) return; // one effect while open (S2)
        this.note({ kind: 'event', by: e.by, text: `${e.source === 'client' ? 'The client' : 'The therapist'} reported the client ${e.cannotWait ? 'cannot wait' : 'is unhappy'}` });
        if (e.cannotWait) this.escalate('network', 'The client feels unable to wait for the therapist to return: please contact them', { topic, ackWithin: this.p.cannotWaitResponseMs });
        else this.escalate('network', 'The client is unhappy with the cancellation', { topic });
        return;
      }
      case 'acknowledge': {
        const esc = this.s.escalations.find((x) => x.id === e.escalationId);
        if (esc && !esc.ack) this.acknowledge(esc, e.by, e.note);
        return;
      }
      case 'close':
        return this.close(e.by, e.reason, e.note, e.riskDisposition, e.recordsWaiver);
    }
  }

  private begin(): void {
    const { input } = this;
    this.note({ kind: 'event', text: `Case opened: session ${formatUk(input.session.startsAt)} cancelled by the therapist` });
    // The risk alert goes first, in the very first workflow task, whatever else happens.
    if (input.risk?.concern) this.raiseRisk('therapist', input.therapist.id, input.risk.note, 'A risk concern was recorded when the session was cancelled; see the case page now');
    // Slots before a known return cannot be kept.
    if (this.s.expectedReturn) this.withdrawSlotsBefore(returnsAt(this.s.expectedReturn));
    this.openCancellationRecords();
    if (input.followOn) this.followOn(input.followOn.fromCaseId);
    else this.contactClient();
  }

  /**
   * A case following a finished one whose new session a longer absence withdrew: the client hears
   * at once that it cannot go ahead, and support rebooks them after the return (D5, A4).
   */
  private followOn(fromCaseId: string): void {
    const slot = this.input.session.startsAt;
    this.note({ kind: 'event', text: `Follows case ${fromCaseId}: its new session on ${formatUk(slot)} falls inside the therapist's longer absence` });
    this.setStage('awaiting-follow-up');
    if (this.byMessage) {
      this.s.toldCheckAt = toldEvidenceDue(this.p, this.now, this.start);
      this.tellClient('bookingWithdrawn', 'first', `the new session on ${formatUk(slot)} cannot go ahead`, { withdrawnSlot: slot });
    }
    const tell = this.byMessage ? '' : ' (phone the client: they have not been told)';
    const due = Math.min(this.now + this.p.followUpWindowMs, this.beforeSession());
    this.task('rebook', 'support', `Rebook the client after the therapist's return, and remove the withdrawn session from MPB${tell}`, due, `A new session on ${formatUk(slot)} (case ${fromCaseId}) falls inside the therapist's longer absence; please rebook the client after the return and remove that session from MPB${tell}`, { clientFacing: true });
  }

  /** The attendance record and the clinical note are owed for every cancellation, from the start (D10). */
  private openCancellationRecords(): void {
    this.open('records', 'therapist', 'Add the cancellation to MPB: attendance "Appointment Cancelled by Therapist/VHG" and a clinical note', this.now + this.p.documentationDeadlineMs, {
      records: ['attendance', 'clinicalNote'],
    });
    this.scheduleDocsCheck();
  }

  private contactClient(): void {
    const { input } = this;
    if (this.byMessage) {
      // Evidence that the client knows is due before the session, or a person phones (D4, D7).
      this.s.toldCheckAt = toldEvidenceDue(this.p, this.now, this.start);
      if ('slots' in input.rebook && this.availableSlots().length > 0) {
        const n = this.availableSlots().length;
        this.tellClient('slotOffer', 'first', `cancellation with ${n} time${n === 1 ? '' : 's'} to choose from`);
      } else if ('callbackBy' in input.rebook) {
        this.tellClient('callbackPromise', 'first', `cancellation; the therapist will call by ${formatUk(input.rebook.callbackBy)}`);
      } else {
        this.tellClient('absenceUpdate', 'first', 'cancellation; no new time can be offered yet');
        this.startFollowUp('none of the offered times is after the expected return');
      }
      return;
    }
    // Phone and voicemail: one call both cancels and rebooks, due before the session.
    const promised = 'callbackBy' in input.rebook ? Date.parse(input.rebook.callbackBy) : Infinity;
    const due = Math.min(phoneOutcomeDeadline(this.p, this.now, this.start), promised);
    this.setStage('awaiting-phone-outcome');
    this.assignCall('phone', this.phoneWhat('Phone the client to tell them of the cancellation and agree a new time'), due, 'cancel', `call task for the cancellation (${this.voicemailAllowed ? 'voicemail allowed' : 'no voicemail'})`, { clientFacing: true });
    // Too close to the session for the therapist to try first and support after: both at once (D4).
    if (supportInParallel(this.p, this.now, this.start) && this.openObligations('phone', 'support').length === 0) {
      this.task('phone', 'support', this.phoneWhat('Phone the client now: their session is about to start'), this.beforeSession(), `The session at ${formatUk(this.start)} is about to start and the client prefers ${this.input.client.preferredContact}; please phone them now, alongside the therapist`, { clientFacing: true });
    }
  }

  private phoneWhat(what: string): string {
    return `${what} (${this.voicemailAllowed ? 'a voicemail may be left' : 'do not leave a voicemail'})`;
  }

  private sent(key: string, channel: 'email' | 'sms', delivered: boolean, notifyId?: string): void {
    const msg = this.s.messages.find((m) => m.key === key);
    if (!msg || msg.status === 'delivered' || msg.status === 'failed') return;
    msg.status = 'accepted';
    msg.channel = channel;
    if (msg.esc) this.escalationDelivery(msg, 'accepted');
    this.note({ kind: 'message', channel, outcome: 'sent', ...(msg.to === 'team' ? { team: msg.kind as Team } : {}), text: msg.to === 'client' ? `Client: ${msg.label}` : msg.label });
    if (msg.to === 'client') {
      if (msg.kind === 'slotOffer' && this.s.stage === 'contacting') {
        // A longer absence reported while the offer was on its way may have left nothing to choose.
        if (this.nothingLeftToChoose()) this.startFollowUp(NOTHING_LEFT);
        else {
          this.setStage('awaiting-choice');
          this.open('choose', 'client', 'Choose one of the offered times', choiceDeadline(this.p, this.now, this.s.offeredSlots.map((x) => Date.parse(x))));
        }
      } else if (msg.kind === 'callbackPromise' && this.s.stage === 'contacting') {
        this.awaitCallback(Date.parse(this.s.callbackBy!));
      }
      // An SMS is followed until Notify says it arrived or failed (D7).
      if (channel === 'sms' && notifyId && !delivered && this.isOpen) this.commands.push({ type: 'smsStatus', key, query: { caseId: this.input.caseId, step: key, notifyId } });
    }
    if (delivered) this.delivered(msg);
  }

  private delivered(msg: Message): void {
    if (msg.status === 'failed') return;
    msg.status = 'delivered';
    if (msg.esc) this.escalationDelivery(msg, 'delivered');
    if (msg.to === 'client') {
      this.note({ kind: 'message', channel: msg.channel, outcome: 'delivered', text: `Client: ${msg.label}: delivered` });
      this.toldBy('delivered');
    }
  }

  /** An escalation's delivery is that of its latest alert to its own team (copies are noted on the timeline). */
  private escalationDelivery(msg: Message, status: Escalation['delivery'], note?: string): Escalation | undefined {
    const esc = this.s.escalations.find((e) => e.id === msg.esc);
    if (!esc || msg.kind !== esc.team) return undefined;
    // An older alert's outcome does not overwrite a newer one's.
    if (msg.at < esc.lastAlert) return undefined;
    esc.delivery = status;
    if (note) esc.deliveryNote = note;
    return esc;
  }

  private failed(key: string, reason: string): void {
    const msg = this.s.messages.find((m) => m.key === key);
    if (!msg || msg.status === 'failed') return;
    const wasDelivered = msg.status === 'delivered';
    msg.status = 'failed';
    msg.note = reason;
    const team = msg.to === 'team' ? (msg.kind as Team) : undefined;
    this.note({ kind: 'message', channel: msg.channel, outcome: 'failed', ...(team ? { team } : {}), text: `${msg.to === 'client' ? `Client: ${msg.label}` : msg.label}: not delivered (${reason})` });
    if (team) this.escalationDelivery(msg, 'failed', reason);
    // A closed or completed case asks nobody for anything more; the failure is on its timeline.
    if (wasDelivered || !this.isOpen) return;
    switch (msg.to) {
      case 'client':
        return this.clientUnreachable(msg, reason);
      case 'therapist':
        this.escalate('support', `The therapist could not be emailed (${msg.label.replace(/^Therapist: /, '')}); please contact them`, { topic: 'therapist-unreachable' });
        return;
      case 'provider':
        this.escalate('support', `The provider could not be told (${msg.label.replace(/^Provider: /, '')}); please pass it on`, { topic: 'provider-unreachable' });
        return;
      case 'team': {
        const esc = this.s.escalations.find((e) => e.id === msg.esc && e.team === msg.kind);
        if (!esc || msg.at < esc.lastAlert) return;
        // An alert that did not arrive climbs the ladder at once, and support is asked to pass it on by phone (D1).
        const ob = this.s.obligations.find((o) => o.id === esc.ob);
        if (esc.ack || !ob || ob.done || esc.copied.length > 0) return;
        this.climb(esc, true);
        if (ob.kind === 'acknowledge') {
          ob.chaseAt = this.now + this.chaseRepeat(esc.team, ob.chases);
          ob.chases++;
        }
        return;
      }
    }
  }

  /**
   * A client message that did not arrive (W5): a person must tell the client instead, before
   * the session for a first notice, before the new session for a confirmation.
   */
  private clientUnreachable(msg: Message, reason: string): void {
    if (!this.isOpen) return;
    const channel = msg.channel ?? 'their channel';
    const first = msg.kind === 'slotOffer' || msg.kind === 'callbackPromise' || msg.purpose === 'first';
    if (first) {
      if (this.s.bookedSlot || this.s.told) return; // rebooked or reached another way while this retried
      const due = this.beforeSession();
      this.settleAll(['choose', 'callback', 'confirm-told'], 'channel failed', 'superseded');
      this.s.toldCheckAt = undefined;
      this.setStage('awaiting-phone-outcome');
      if (this.openObligations('phone', 'support').length === 0) {
        this.task('phone', 'support', this.phoneWhat('Phone the client to tell them of the cancellation and agree a new time'), due, `The client could not be reached by ${channel} (${reason}); session ${formatUk(this.start)}. Please phone the client`, { clientFacing: true });
      }
      return;
    }
    if (this.openObligations('tell-client', 'support').length > 0) return;
    const booked = msg.kind === 'confirmation' && this.s.bookedSlot ? Date.parse(this.s.bookedSlot) : undefined;
    const due = Math.min(this.now + this.p.followUpWindowMs, booked !== undefined ? booked - this.p.phoneOutcomeLeadMs : Infinity);
    this.task('tell-client', 'support', this.phoneWhat(`Phone the client: the ${CLIENT_NEWS[msg.kind as ClientMessageKind] ?? 'update'} could not be sent`), due, `A message to the client could not be delivered by ${channel} (${reason}); please phone them with the news`);
  }

  /** Evidence that the client knows: it discharges any duty to make sure they know. */
  private toldBy(how: 'delivered' | 'client-acted' | 'phone'): void {
    if (!this.s.told) {
      this.s.told = { at: this.now, how };
      this.note({ kind: 'event', text: `The client knows of the cancellation (${TOLD_LABELS[how]})` });
    }
    this.s.toldCheckAt = undefined;
    this.settleAll(['confirm-told'], TOLD_LABELS[how], 'met');
  }

  private awaitCallback(callbackBy: number): void {
    this.s.callbackBy = this.iso(callbackBy);
    this.setStage('awaiting-callback');
    this.assignCall('callback', this.phoneWhat('Call the client back to rebook'), callbackBy, undefined, undefined, { remindAt: callbackReminderAt(this.p, this.now, callbackBy) });
  }

  private startFollowUp(why: string): void {
    const due = this.now + this.p.followUpWindowMs;
    this.settleAll(['choose'], 'follow-up started', 'handed-over');
    this.setStage('awaiting-follow-up');
    this.assignCall('follow-up', `Contact the client to agree a new time (${why})`, due, 'followUp', `follow-up duty (${why})`);
  }

  // ---- who does the therapist's work while they are away ----------------------------------------

  /** Whether the therapist is away now: an expected return still ahead, and not reported back. */
  private get away(): boolean {
    return !this.s.absence.returned && !!this.s.expectedReturn && this.now < returnsAt(this.s.expectedReturn);
  }

  /** Who does the therapist's calls and follow-ups now: the therapist, a covering clinician, or support. */
  private workOwner(): Owner {
    if (!this.away) return 'therapist';
    return this.s.absence.cover ? 'cover' : 'support';
  }

  /**
   * Gives the therapist's kind of work (a call, a follow-up, a callback) to whoever does it now,
   * and tells them: the therapist or the covering clinician by email, support by an escalation.
   */
  private assignCall(kind: ObligationKind, what: string, due: number, purpose?: CallPurpose, label?: string, extra: Partial<Obligation> = {}): Obligation {
    const owner = this.workOwner();
    const covering = owner !== 'therapist';
    if (owner === 'support') {
      const back = this.s.expectedReturn ? ` (expected back ${formatUkDate(this.s.expectedReturn)})` : '';
      return this.task(kind, 'support', what, due, `The therapist is away${back}: please do this for them: ${what}`, { ...extra, covering });
    }
    const ob = this.open(kind, owner, what, due, { ...extra, covering });
    if (label) this.notifyWorker(owner, purpose, label, due);
    return ob;
  }

  /** Emails the therapist (or the clinician covering for them) about a call or a follow-up. */
  private notifyWorker(owner: Owner, purpose: CallPurpose | undefined, label: string, due: number): void {
    if (purpose && (!this.byMessage || purpose !== 'followUp')) this.callTask(purpose, label, due, owner);
    else this.tellTherapist('followUpDuty', label, { deadline: this.iso(due), slots: this.availableSlots() }, owner);
  }

  /**
   * News from the absence: a new expected return, the therapist back, or a covering clinician.
   * Work given away because the therapist was away goes back on their return, and the other way.
   */
  private applyNews({ news, keepChoosing = false, dateBeforeReturn = false, keepHeldUpdate = false }: Extract<CaseEvent, { type: 'absence' }>): void {
    // The old rule took the return after the date, and kept what the date had held for the morning.
    const keepHeld = keepHeldUpdate || dateBeforeReturn;
    // The therapist back is taken first: a date in the same news is then history (A9).
    if (news.returned && !dateBeforeReturn) this.takeReturn(news.by, keepHeld);
    if (news.expectedReturn && news.expectedReturn !== this.s.expectedReturn) this.applyAbsence(news.expectedReturn, news.by ?? 'the therapist', keepChoosing, dateBeforeReturn);
    if (news.returned) this.takeReturn(news.by, keepHeld);
    const coverChanged = (news.cover?.ref ?? '') !== (this.s.absence.cover?.ref ?? '');
    if (coverChanged) {
      this.s.absence.cover = news.cover;
      this.note({ kind: 'event', by: news.by, text: news.cover ? `${news.cover.name} covers the therapist's calls while they are away` : 'Support covers the therapist\'s calls while they are away' });
    }
    this.reassignWork();
    // Decided last, once a return or a cover in the same news has been taken in.
    if (this.s.stage === 'awaiting-choice' && this.nothingLeftToChoose()) this.startFollowUp(NOTHING_LEFT);
  }

  /** The therapist is back: times withdrawn only because of the absence can be chosen again (A9). */
  private takeReturn(by: string | undefined, keepHeldUpdate: boolean): void {
    if (this.s.absence.returned) return;
    this.s.absence.returned = true;
    this.note({ kind: 'event', by, text: 'The therapist is back' });
    this.s.awaySlots = [];
    // News held for the morning ("expected back on …", "no date yet", "the team will contact you")
    // is no longer true: it is not sent. Who contacts the client now is decided afresh (reassignWork).
    if (!keepHeldUpdate) this.s.messages = this.s.messages.filter((m) => !heldAbsenceUpdate(m));
  }

  private reassignWork(): void {
    const want = this.workOwner();
    for (const ob of [...this.s.obligations]) {
      if (ob.done || (ob.kind !== 'phone' && ob.kind !== 'follow-up' && ob.kind !== 'callback')) continue;
      const mine = ob.owner === 'therapist' || ob.owner === 'cover' || (ob.owner === 'support' && ob.covering);
      if (!mine || ob.owner === want) continue;
      this.settle(ob, 'reassigned', 'handed-over', `now with ${ownerName(want)}`);
      const purpose = ob.kind === 'phone' ? 'cancel' : ob.kind === 'follow-up' ? 'followUp' : undefined;
      this.assignCall(ob.kind, ob.what, ob.due, purpose, `${ob.kind === 'callback' ? 'a promised callback' : 'a call'} passed to you`, { clientFacing: ob.clientFacing, ...(ob.remindAt !== undefined ? { remindAt: ob.remindAt } : {}) });
      // A client waiting for a callback hears who will contact them now.
      if (ob.kind === 'callback' && this.byMessage) {
        this.tellClient('absenceUpdate', 'update', `who will contact the client now (${want === 'therapist' ? 'their usual contact' : 'someone from the team'})`, { contactBy: want === 'therapist' ? 'therapist' : 'team' });
      }
    }
  }

  /**
   * Tells the absence what its decisions rest on, when it changes: the booking (its slot ledger)
   * and that the case ended (its open cases, and when it may end). The absence learns of the case,
   * open and unbooked, when it joins, so a case that has nothing new for it sends nothing; a stage
   * change alone is not news for the absence (each report costs both workflows a workflow task).
   */
  reportToAbsence(): void {
    if (!this.input.absenceWorkflowId) return;
    const open = this.isOpen;
    const report = { caseId: this.input.caseId, stage: this.s.stage, open, ...(this.s.bookedSlot ? { bookedSlot: this.s.bookedSlot } : {}) };
    const key = reportKey(open, report.bookedSlot);
    if (key === (this.s.reported ?? AS_JOINED)) return;
    this.s.reported = key;
    this.commands.push({ type: 'reportToAbsence', report });
  }

  private book(slot: string, by: string, purpose: ClientPurpose): void {
    // News held back for the morning ("we will offer you a time") would contradict the booking.
    this.s.messages = this.s.messages.filter((m) => !heldAbsenceUpdate(m));
    this.s.bookedSlot = slot;
    this.s.bookedAt = this.now;
    this.s.callbackBy = undefined;
    this.settleAll(['choose', 'phone', 'callback', 'follow-up', 'confirm-told', 'rebook'], by, 'met');
    this.note({ kind: 'event', by, text: `Rebooked for ${formatUk(slot)}` });
    this.tellClient('confirmation', purpose, `new session confirmed for ${formatUk(slot)}`, { bookedSlot: slot });
    this.tellTherapist('confirmation', `new session confirmed for ${formatUk(slot)}`, { bookedSlot: slot });
    this.setStage('awaiting-documentation');
    this.s.records.nextSession = { done: false };
    const due = nextSessionRecordDue(this.p, this.now, Date.parse(slot));
    if (this.s.recordsUnavailable) this.supportRecordsTask(['nextSession'], due, 'the therapist cannot reach MPB');
    else this.open('records', 'therapist', 'Add the next session to MPB, so the client gets a booking confirmation', due, { records: ['nextSession'] });
    this.scheduleDocsCheck();
  }

  private phoneOutcome(o: Extract<CaseEvent, { type: 'phoneOutcome' }>): void {
    this.note({ kind: 'event', by: o.by, text: `Phone call: ${o.reached ? 'reached the client' : 'did not reach the client'}`, ...(o.note ? { note: o.note } : {}) });
    if (o.reached) {
      this.toldBy('phone');
      this.settleAll(['tell-client'], o.by, 'met');
      if (o.rebookedSlot) return this.book(o.rebookedSlot, o.by, 'response');
      if (o.callbackBy) {
        this.settleAll(['phone', 'follow-up', 'callback', 'rebook'], o.by, 'met');
        this.awaitCallback(Date.parse(o.callbackBy));
      }
      return;
    }
    const supportPhone = this.s.obligations.find((x) => !x.done && x.owner === 'support' && (x.kind === 'phone' || x.kind === 'confirm-told'));
    const therapistPhone = this.openObligations('phone', 'therapist')[0] ?? this.openObligations('phone', 'cover')[0];
    const bySupport = o.role === 'escalation-team' && supportPhone !== undefined;
    const duty = bySupport ? supportPhone : (therapistPhone ?? supportPhone);
    if (!duty) return;
    // Not reached: an attempt on the duty. It stays with its owner, who may try again before the
    // deadline, unless they hand it on now.
    duty.attempts = (duty.attempts ?? 0) + 1;
    if (!o.handOver) return;
    if (duty.owner === 'support') return this.supportCouldNotReach(duty, o.by);
    if (supportPhone) {
      this.settle(duty, o.by, 'handed-over', 'not reached; support is also phoning');
      return;
    }
    this.handOverPhone(duty, `The therapist could not reach the client by phone; please try before the session at ${formatUk(this.start)}`);
  }

  /** Support takes over the call; if support cannot make it in time either, the network team hears. */
  private handOverPhone(ob: Obligation, reason: string): void {
    this.settle(ob, 'the deadline', 'handed-over');
    if (this.openObligations('phone', 'support').length > 0) return;
    this.task('phone', 'support', this.phoneWhat('Phone the client to tell them of the cancellation and agree a new time'), this.beforeSession(), reason, { clientFacing: true });
  }

  /**
   * Support could not reach the client: the therapist is told at once (D9) and owns the follow-up;
   * while the session is still ahead, the clinical network team makes a last attempt before it.
   */
  private supportCouldNotReach(ob: Obligation, by: string): void {
    this.settle(ob, by, 'handed-over', 'support could not reach the client');
    const start = formatUk(this.start);
    if (this.start > this.now) {
      if (this.openObligations('phone', 'network').length === 0) {
        this.task('phone', 'network', this.phoneWhat('Try to reach the client before their session: neither the therapist nor support has'), this.start, `Neither the therapist nor support has reached the client by phone, and the cancelled session is at ${start}; please try to reach them before it`, { clientFacing: true });
      }
    } else {
      this.escalate('network', `Neither the therapist nor support has reached the client by phone; the session was at ${start}`, { topic: 'not-reached' });
    }
    const due = this.now + this.p.followUpWindowMs;
    if (this.openObligations('follow-up').length === 0) {
      this.assignCall('follow-up', 'Reach the client by any means and agree a new time', due, 'notReached', 'support could not reach the client by phone');
    }
    if (this.s.stage === 'awaiting-phone-outcome' || this.s.stage === 'contacting') this.setStage('awaiting-follow-up');
  }

  private slotTaken(slot: string, from?: string): void {
    if (!this.s.takenSlots.includes(slot)) this.s.takenSlots.push(slot);
    // Two clients of the same absence chose the same time at once: one of the two cases says so (W17).
    if (this.s.bookedSlot === slot && from !== undefined && from < this.input.caseId && this.isOpen) {
      const slotAt = Date.parse(slot);
      this.task('rebook', 'support', 'Rebook one of two clients booked into the same time', Math.min(this.now + this.p.followUpWindowMs, slotAt - this.p.phoneOutcomeLeadMs), `Two clients of this absence booked the same time (${formatUk(slot)}); please rebook one of them`, { clientFacing: true });
    }
  }

  // ---- absence -----------------------------------------------------------------------------------

  /** The offered times before the expected return are not offered while the therapist is away. */
  private withdrawSlotsBefore(returns: number): void {
    this.s.awaySlots = this.s.absence.returned ? [] : this.s.offeredSlots.filter((slot) => Date.parse(slot) < returns);
  }

  /** The expected return moved (the absence tells the provider; this case tells its client). */
  private applyAbsence(expectedReturn: string, by: string, keepChoosing: boolean, dateBeforeReturn: boolean): void {
    this.s.expectedReturn = expectedReturn;
    this.note({ kind: 'event', by, text: `Expected return now ${formatUkDate(expectedReturn)}` });
    if (!keepChoosing) this.s.followUpWhenNothingLeft = true;
    // Already back: the date is history, with nothing to withdraw and nothing to tell the client.
    if (this.s.absence.returned && !dateBeforeReturn) return;
    const returns = returnsAt(expectedReturn);
    this.withdrawSlotsBefore(returns);
    if (this.s.bookedSlot && Date.parse(this.s.bookedSlot) < returns) {
      this.withdrawBooking(this.s.bookedSlot);
    } else if (!this.s.bookedSlot) {
      // A client booked after the new return keeps their booking and hears nothing contradictory (D5).
      this.keepClientInformed(`absence update (expected return ${formatUkDate(expectedReturn)})`, { expectedReturn });
    }
  }

  /**
   * The absence has left the client no offered time to choose (those it did not withdraw are taken
   * or past): a person takes the case now rather than at the choice deadline. Only for cases that
   * run this rule (`followUpWhenNothingLeft`, set from the shell's patch).
   */
  private nothingLeftToChoose(): boolean {
    return !!this.s.followUpWhenNothingLeft && this.s.awaySlots.length > 0 && this.availableSlots().length === 0;
  }

  /** A booking inside a longer absence cannot go ahead: the client is told, a person rebooks (D5). */
  private withdrawBooking(slot: string): void {
    this.s.withdrawnSlots.push(slot);
    this.s.bookedSlot = undefined;
    this.s.bookedAt = undefined;
    const wasRecorded = this.s.records.nextSession.done;
    this.s.records.nextSession = { done: false };
    // The next-session record is no longer owed; whatever else a records duty covers stays owed.
    for (const ob of this.openObligations('records')) {
      if (!ob.records?.includes('nextSession')) continue;
      ob.records = ob.records.filter((r) => r !== 'nextSession');
      if (ob.records.length === 0) this.settle(ob, 'booking withdrawn', 'superseded');
    }
    this.note({ kind: 'event', text: `The new session on ${formatUk(slot)} falls inside the longer absence and is withdrawn` });
    this.setStage('awaiting-follow-up');
    if (this.byMessage) {
      this.tellClient('bookingWithdrawn', 'update', `the new session on ${formatUk(slot)} cannot go ahead`, { withdrawnSlot: slot, bookedSlot: undefined });
    }
    const due = Math.min(this.now + this.p.followUpWindowMs, Date.parse(slot) - this.p.phoneOutcomeLeadMs);
    const mpb = wasRecorded ? ' and remove the withdrawn session from MPB' : '';
    const tell = this.byMessage ? '' : ' (phone the client: they have not been told)';
    this.task('rebook', 'support', `Rebook the client after the therapist's return${mpb}${tell}`, due, `A new session on ${formatUk(slot)} falls inside the therapist's longer absence; please rebook the client after the return${mpb}${tell}`, { clientFacing: true });
  }

  /**
   * Keeps the client informed while the absence lasts: by message, or for phone and voicemail
   * clients by a tracked call from support, since the therapist is the one who is away (D8).
   */
  private keepClientInformed(label: string, facts: Partial<ClientNotice>): void {
    if (this.byMessage) {
      this.tellClient('absenceUpdate', 'update', label, facts);
      return;
    }
    // A call still to make about the cancellation carries the news; an open call to tell them, too.
    if (this.openObligations('tell-client', 'support').length > 0 || this.openObligations('phone').length > 0) return;
    this.task('tell-client', 'support', this.phoneWhat('Phone the client to tell them the absence is continuing'), this.now + this.p.followUpWindowMs, `The therapist's absence continues; the client prefers ${this.input.client.preferredContact} and must be told by a person (${label})`);
  }

  // ---- records ----------------------------------------------------------------------------------

  private scheduleDocsCheck(): void {
    if (this.input.recordsMode === 'mpb' && this.s.docsCheckAt === undefined) this.s.docsCheckAt = this.now + this.p.documentationCheckIntervalMs;
  }

  private checkRecords(): void {
    const { input } = this;
    this.commands.push({ type: 'checkRecords', query: { caseId: input.caseId, sessionId: input.session.id, clientRef: input.client.ref, therapistRef: input.therapist.id, cancelledAt: input.submittedAt } });
  }

  private recordsChecked(found: Partial<Record<RecordName, boolean>> | undefined, error: string | undefined): void {
    if (found) {
      for (const r of RECORDS) {
        if (found[r] && !this.s.records[r].done && (r !== 'nextSession' || this.s.bookedSlot)) this.s.records[r] = { done: true, at: this.iso(), by: 'MPB', source: 'mpb' };
      }
      this.note({ kind: 'event', text: `MPB checked: ${RECORDS.filter((r) => this.s.records[r].done).length} of ${RECORDS.length} records found` });
      this.settleRecords('MPB');
    } else {
      // A records system that cannot answer never counts as "documented".
      this.note({ kind: 'event', text: `MPB could not be checked: ${error ?? 'no answer'}` });
    }
    // A chase that waited for this check goes ahead if anything is still missing.
    for (const ob of this.openObligations('records')) {
      if (!ob.checking) continue;
      ob.checking = false;
      this.chaseRecords(ob);
    }
  }

  private confirmRecord(record: RecordName, by: string): void {
    if (this.s.records[record].done) return;
    this.s.records[record] = { done: true, at: this.iso(), by, source: 'attestation' };
    this.note({ kind: 'event', by, text: `Confirmed in MPB: ${RECORD_LABELS[record]}` });
    this.settleRecords(by);
  }

  private settleRecords(by: string): void {
    for (const ob of this.openObligations('records')) {
      if ((ob.records ?? []).every((r) => this.s.records[r].done)) this.settle(ob, by, 'met');
    }
  }

  private missingRecords(ob?: Obligation): RecordName[] {
    return (ob?.records ?? [...RECORDS]).filter((r) => !this.s.records[r].done);
  }

  private recordsUnavailable(by: string): void {
    if (this.s.recordsUnavailable) return;
    this.s.recordsUnavailable = true;
    this.note({ kind: 'event', by, text: 'MPB cannot be reached by the therapist' });
    this.recordsToSupport(this.openObligations('records', 'therapist'), 'the therapist cannot reach MPB');
  }

  /** Support adds the records on the therapist's behalf: one task (and one alert) for all that is owed. */
  private recordsToSupport(obs: Obligation[], why: string): void {
    if (obs.length === 0) return;
    const records = [...new Set(obs.flatMap((o) => o.records ?? []))];
    for (const ob of obs) this.settle(ob, 'handed to support', 'handed-over');
    this.supportRecordsTask(records, this.now + this.p.documentationGraceMs, why);
  }

  private supportRecordsTask(records: RecordName[], due: number, why: string): void {
    const missing = records.filter((r) => !this.s.records[r].done);
    this.task('records', 'support', "Add the missing records to MPB on the therapist's behalf", due, `Please add the missing MPB records on the therapist's behalf (${why}): ${missing.map((r) => RECORD_LABELS[r]).join('; ')}`, { records });
  }

  /**
   * A records deadline: the therapist is reminded once (one reminder for everything of theirs due
   * now), then support is asked; support's own deadline brings in the network team.
   */
  private chaseRecords(ob: Obligation): void {
    if (this.missingRecords(ob).length === 0) {
      this.settle(ob, 'MPB', 'met');
      return;
    }
    if (ob.owner !== 'therapist') {
      this.chaseTask(ob, `Records still missing on MPB after support's deadline: ${this.missingRecords(ob).map((r) => RECORD_LABELS[r]).join('; ')}`);
      return;
    }
    // Everything of the therapist's at the same rung and due by now goes in one message.
    const due = this.openObligations('records', 'therapist').filter((o) => o.chases === ob.chases && o.chaseAt <= this.now + BATCH_WINDOW && !o.checking);
    const batch = due.includes(ob) ? due : [ob, ...due];
    if (ob.chases === 0) {
      const grace = this.now + this.p.documentationGraceMs;
      const missing = [...new Set(batch.flatMap((o) => this.missingRecords(o)))];
      this.tellTherapist('documentationReminder', `${missing.length} MPB record(s) still missing`, { missingRecords: missing, deadline: this.iso(grace) });
      for (const o of batch) {
        o.chases = 1;
        o.chaseAt = grace;
      }
      return;
    }
    this.recordsToSupport(batch, 'records still missing after the grace period');
  }

  // ---- risk, closure ------------------------------------------------------------------------------

  private raiseRisk(source: string, by: string, note?: string, reason?: string): void {
    this.s.risk = true;
    if (note) this.s.riskNote = (this.s.riskNote ? `${this.s.riskNote}\n\n${note}` : note).slice(-LIMITS.riskNote);
    if (source === 'client') this.toldBy('client-acted');
    const topic = `risk:${source}`;
    if (this.s.escalations.some((e) => e.topic === topic && !e.ack)) return; // one effect while open (S2)
    this.note({ kind: 'event', by, text: `Risk concern raised by the ${RISK_SOURCES[source] ?? source}` });
    this.escalate('risk', reason ?? `A risk concern has been raised by the ${RISK_SOURCES[source] ?? source}; see the case page now`, { topic });
  }

  private close(by: string, reason: Extract<CaseEvent, { type: 'close' }>['reason'], note?: string, riskDisposition?: string, recordsWaiver?: string): void {
    for (const esc of this.s.escalations) {
      if (!esc.ack && esc.team === 'risk') this.acknowledge(esc, by, `closing: ${riskDisposition ?? ''}`.trim());
    }
    for (const ob of this.s.obligations) if (!ob.done) this.settle(ob, by, 'waived', ob.kind === 'records' ? recordsWaiver : note);
    for (const esc of this.s.escalations) if (!esc.ack) esc.ack = { at: this.now, by, note: 'case closed' };
    // Nothing more reaches the client once the case is closed.
    this.s.messages = this.s.messages.filter((m) => m.status !== 'deferred');
    this.s.toldCheckAt = undefined;
    this.s.docsCheckAt = undefined;
    this.s.closed = { by, reason, at: this.now, ...(note ? { note } : {}), ...(riskDisposition ? { riskDisposition } : {}), ...(recordsWaiver ? { recordsWaiver } : {}) };
    this.s.stage = 'closed';
    this.note({ kind: 'event', by, text: `Closed by ${by}: ${CLOSE_LABELS[reason] ?? reason}`, ...(note ? { note } : {}) });
  }

  // ---- time: reminders, chases, checks, deferred messages -----------------------------------------

  /** Handles everything due by now. Chases open new obligations only in the future, so this ends. */
  settleDue(): void {
    if (!this.isOpen) return;
    for (let pass = 0; pass < 5; pass++) {
      let acted = false;
      for (const ob of this.s.obligations) {
        if (ob.done) continue;
        if (ob.remindAt !== undefined && ob.remindAt <= this.now) {
          ob.remindAt = undefined;
          this.remind(ob);
          acted = true;
        }
        if (!ob.done && ob.chaseAt <= this.now) {
          this.chase(ob);
          acted = true;
        }
      }
      if (this.s.toldCheckAt !== undefined && this.s.toldCheckAt <= this.now) {
        this.s.toldCheckAt = undefined;
        this.confirmTold();
        acted = true;
      }
      if (this.s.docsCheckAt !== undefined && this.s.docsCheckAt <= this.now) {
        const owed = this.openObligations('records').length > 0;
        this.s.docsCheckAt = owed ? this.now + this.p.documentationCheckIntervalMs : undefined;
        if (owed) this.checkRecords();
        acted = true;
      }
      for (const m of this.s.messages) {
        if (m.status === 'deferred' && m.sendAt !== undefined && m.sendAt <= this.now) {
          m.status = 'sending';
          m.at = this.now;
          this.commands.push({ type: 'notifyClient', key: m.key, label: m.label, notice: this.clientNotice(m.key, m.kind as ClientMessageKind, m.channel ?? 'email', m.facts ?? {}) });
          delete m.facts;
          acted = true;
        }
      }
      if (!acted || !this.isOpen) return;
    }
  }

  /** No evidence that a client told only by message knows, and the session is close: a person phones (D4, D7). */
  private confirmTold(): void {
    if (this.s.told || !this.isOpen || this.s.bookedSlot) return;
    if (this.s.obligations.some((o) => !o.done && o.clientFacing && o.owner !== 'client')) return;
    const channel = this.input.client.preferredContact;
    this.task('confirm-told', 'support', 'Make sure the client knows their session is cancelled: phone them (do not leave a voicemail)', this.beforeSession(), `There is no sign yet that the client has seen the ${channel} about their cancelled session at ${formatUk(this.start)}; please phone them before it`, { clientFacing: true });
  }

  private remind(ob: Obligation): void {
    if (ob.kind !== 'callback' || !this.s.callbackBy) return;
    // Support hears through its task's alert; the therapist or the clinician covering by email.
    if (ob.owner === 'support') {
      const esc = this.s.escalations.find((e) => e.id === ob.esc);
      if (esc && !esc.ack) this.alert(esc);
      return;
    }
    this.tellTherapist('callbackReminder', `reminder of the callback due ${formatUk(this.s.callbackBy)}`, { deadline: this.s.callbackBy, callbackBy: this.s.callbackBy }, ob.owner);
  }

  /** Risk alerts are chased on the short cadence three times, then daily like every other escalation. */
  private chaseRepeat(team: Owner, chases: number): number {
    return team === 'risk' && chases < 3 ? this.p.riskChaseRepeatMs : this.p.escalationAckWindowMs;
  }

  /** What happens when an obligation's deadline (or its next chase) comes and it is still open. */
  private chase(ob: Obligation): void {
    const first = ob.chases === 0;
    switch (ob.kind) {
      case 'choose':
        this.settle(ob, 'the deadline', 'handed-over');
        this.startFollowUp('the client has not chosen a time');
        return;
      case 'phone':
        if (ob.owner === 'therapist' || ob.owner === 'cover') return this.handOverPhone(ob, `No phone outcome was recorded; please phone the client before the session at ${formatUk(this.start)}`);
        if (ob.owner === 'support') return this.supportCouldNotReach(ob, 'the deadline');
        // The last attempt before the session was not recorded either: the clinical lead hears.
        this.settle(ob, 'the deadline', 'handed-over');
        this.escalate('lead', `Nobody recorded reaching the client before their session at ${formatUk(this.start)}`, { topic: 'not-reached-lead' });
        return;
      case 'follow-up':
      case 'callback': {
        const why = ob.kind === 'callback' ? `The promised callback (by ${formatUk(ob.due)}) has not led to a rebooking` : 'The client has not been rebooked after the follow-up deadline';
        // Support's own (covering) task climbs like any of support's tasks.
        if (ob.owner === 'support') return this.chaseTask(ob, why);
        if (first) this.escalate('network', why, { topic: `overdue:${ob.id}` });
        if (ob.kind === 'callback') this.tellTherapist('callbackReminder', first ? 'the promised callback time has passed' : 'the client is still waiting to be rebooked', { callbackBy: this.s.callbackBy }, ob.owner);
        else this.notifyWorker(ob.owner, this.byMessage ? undefined : 'followUp', 'the client is still waiting to be rebooked', this.now + this.p.reminderRepeatMs);
        break;
      }
      case 'records':
        if (this.input.recordsMode === 'mpb' && !ob.checking) {
          // Ask MPB first; the chase goes ahead when it answers (recordsChecked), or at the next check.
          ob.checking = true;
          ob.chaseAt = this.now + this.p.documentationCheckIntervalMs;
          this.checkRecords();
          return;
        }
        ob.checking = false;
        return this.chaseRecords(ob);
      case 'acknowledge': {
        const esc = this.s.escalations.find((e) => e.id === ob.esc);
        if (!esc || esc.ack) {
          this.settle(ob, 'acknowledged', 'met');
          return;
        }
        this.climb(esc, false);
        ob.chaseAt = this.now + this.chaseRepeat(esc.team, ob.chases);
        ob.chases++;
        return;
      }
      case 'confirm-told':
      case 'tell-client':
      case 'rebook':
        return this.chaseTask(ob, `${ob.what}: not done by ${formatUk(ob.due)}`);
    }
    ob.chases++;
    ob.chaseAt = this.now + this.p.reminderRepeatMs;
  }

  /** A team's task past its deadline: the network team hears once, and the team is reminded on a cadence. */
  private chaseTask(ob: Obligation, why: string): void {
    if (ob.chases === 0 && ob.owner !== 'network' && ob.owner !== 'lead') this.escalate('network', why, { topic: `overdue:${ob.id}` });
    const esc = this.s.escalations.find((e) => e.id === ob.esc);
    if (esc && ob.chases > 0) this.alert(esc);
    ob.chases++;
    ob.chaseAt = this.now + this.p.reminderRepeatMs;
  }

  /**
   * An escalation still unacknowledged climbs its ladder: alerted again, with the next rung
   * copied in. One that could not be delivered also goes to support, to pass on by phone (D1).
   */
  private climb(esc: Escalation, undelivered: boolean): void {
    const rungs = [...LADDER[esc.team], ...(undelivered && esc.team !== 'support' ? ['support' as const] : [])];
    for (const t of rungs) if (!esc.copied.includes(t)) esc.copied.push(t);
    this.note({ kind: 'escalation', team: esc.team, text: `${undelivered ? 'Alert not delivered' : 'Not acknowledged in time'}: alerting the ${[esc.team, ...esc.copied].map(ownerName).join(', ')}` });
    this.alert(esc);
  }

  // ---- completion and bounds ----------------------------------------------------------------------

  /** A case is complete when the client is rebooked, the records are done and nothing is owed by anyone. */
  completeIfDone(): void {
    if (!this.isOpen || !this.s.bookedSlot) return;
    if (RECORDS.some((r) => !this.s.records[r].done)) return;
    if (this.s.obligations.some((o) => !o.done)) return;
    this.s.stage = 'completed';
    this.s.toldCheckAt = undefined;
    this.s.docsCheckAt = undefined;
    this.s.messages = this.s.messages.filter((m) => m.status !== 'deferred');
    this.note({ kind: 'event', text: 'Case complete: rebooked and documented' });
  }

  /** Keeps the state bounded whatever arrives (S2): old settled items go, open ones always stay. */
  bound(): void {
    const s = this.s;
    if (s.timeline.length > LIMITS.timeline) {
      const drop = s.timeline.length - LIMITS.timeline;
      s.timeline.splice(0, drop);
      s.timelineDropped += drop;
    }
    const trim = <T>(items: T[], max: number, settled: (x: T) => boolean): T[] => {
      let excess = items.length - max;
      if (excess <= 0) return items;
      return items.filter((x) => !(excess > 0 && settled(x) && excess-- > 0));
    };
    s.obligations = trim(s.obligations, LIMITS.obligations, (o) => o.done !== undefined);
    const keepEsc = new Set(s.obligations.map((o) => o.esc));
    s.escalations = trim(s.escalations, LIMITS.escalations, (e) => e.ack !== undefined && !keepEsc.has(e.id));
    s.messages = trim(s.messages, LIMITS.messages, (m) => m.status !== 'sending' && m.status !== 'deferred');
  }
}

/** Who is copied in when an escalation is not acknowledged in time. */
const LADDER: Record<Team, Team[]> = {
  risk: ['network', 'lead'],
  network: ['lead'],
  support: ['network'],
  lead: [],
};

export const STAGE_LABELS: Record<CaseState['stage'], string> = {
  contacting: 'Telling the client',
  'awaiting-choice': "Waiting for the client's choice",
  'awaiting-callback': 'Waiting for the promised callback',
  'awaiting-phone-outcome': 'Waiting for the phone call to the client',
  'awaiting-follow-up': 'Waiting for someone to agree a new time with the client',
  'awaiting-documentation': 'Rebooked; waiting for the MPB records',
  completed: 'Complete',
  closed: 'Closed',
};

export const RECORD_LABELS: Record<RecordName, string> = {
  attendance: 'attendance marked "Appointment Cancelled by Therapist/VHG"',
  clinicalNote: 'clinical note of how the client was told and what was agreed',
  nextSession: 'next session booked',
};

const CLOSE_LABELS: Record<string, string> = {
  'client-withdrew': 'the client withdrew from therapy',
  discharged: 'the client was discharged',
  'handed-over': 'handed over to another therapist or service',
  other: 'another reason',
};

const RISK_SOURCES: Record<string, string> = {
  client: 'client',
  therapist: 'therapist',
  'clinical-lead': 'clinical lead',
  'escalation-team': 'escalation team',
};

const TOLD_LABELS = { delivered: 'a message was delivered', 'client-acted': 'the client responded', phone: 'reached by phone' } as const;

const CLIENT_NEWS: Partial<Record<ClientMessageKind, string>> = {
  confirmation: 'confirmation of their new session',
  absenceUpdate: 'update about the absence',
  bookingWithdrawn: 'news that their new session cannot go ahead',
};

/** An update about the absence held back for the morning (quiet hours), not yet sent. */
export function heldAbsenceUpdate(m: Message): boolean {
  return m.status === 'deferred' && m.kind === 'absenceUpdate';
}

export function ownerName(owner: Owner): string {
  switch (owner) {
    case 'network':
      return 'clinical network team';
    case 'risk':
      return 'risk duty';
    case 'support':
      return 'support';
    case 'lead':
      return 'clinical lead';
    case 'client':
      return 'client';
    case 'therapist':
      return 'therapist';
    case 'cover':
      return 'covering clinician';
  }
}
