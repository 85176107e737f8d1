/**
 * A model world for the pure case core: a clock, the commands in flight, and channels that fail
 * as a case's faults say. It stands in for Temporal and the channels, so a property test can run
 * ten thousand cases in seconds through exactly the code the workflow runs (apply, refusal,
 * wakeups), with the timers fired in order as the shell fires them.
 */
import fc from 'fast-check';
import type { AbsenceNews } from '../../src/shared/absence';
import type { RecordsStatus } from '../../src/shared/activities';
import type { CaseInput, RecordName, StaffRole, Team } from '../../src/shared/case';
import { DEFAULT_POLICY, type Policy } from '../../src/shared/policy';
import { apply, initialState, refusal } from '../../workflows/case/core';
import type { CaseEvent, CaseState, Command } from '../../workflows/case/model';
import { wakeups } from '../../workflows/case/view';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export interface Faults {
  /** How the client's channel behaves: accepts and delivers, refuses, bounces later, or Notify fails it for good. */
  client: 'ok' | 'rejected' | 'bounce' | 'undelivered' | 'accepted-only';
  /** Teams whose address refuses every alert. */
  teamsDown: Team[];
  therapistDown: boolean;
  providerDown: boolean;
  mpbDown: boolean;
}

export interface Scenario {
  input: CaseInput;
  faults: Faults;
  policy: Policy;
}

export type Step =
  | { t: 'advance'; ms: number }
  | { t: 'complete'; pick: number; found: number }
  | { t: 'choose'; pick: number }
  | { t: 'requestCall' }
  | { t: 'phone'; reached: boolean; agreed: 'slot' | 'callback' | 'none'; days: number; role: StaffRole; team?: 'support'; handOver: boolean }
  | { t: 'rebook'; days: number }
  | { t: 'absence'; days: number }
  | { t: 'back' }
  | { t: 'cover'; on: boolean }
  | { t: 'overrun' }
  | { t: 'record'; which: RecordName }
  | { t: 'recordsDown' }
  | { t: 'risk'; source: 'client' | StaffRole }
  | { t: 'unhappy'; source: 'client' | 'therapist'; cannotWait: boolean }
  | { t: 'ack'; pick: number; role: StaffRole; team?: 'network' | 'risk' | 'support' }
  | { t: 'close'; role: StaffRole; disposition: boolean; waiver: boolean }
  | { t: 'seen' }
  | { t: 'slotTaken'; pick: number; earlier: boolean };

const ROLES: StaffRole[] = ['therapist', 'clinical-lead', 'escalation-team'];
const TEAMS_OF_STAFF = ['network', 'risk', 'support'] as const;

const logUniform = (min: number, max: number) =>
  fc.double({ min: Math.log(min), max: Math.log(max), noNaN: true }).map((x) => Math.round(Math.exp(x)));

/** A UK calendar date some days after an instant. */
const dateAfter = (t: number, days: number) => new Date(t + days * DAY).toISOString().slice(0, 10);

export const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    // Any minute over two years: both clock changes of each year are crossed by many cases.
    t0: fc.integer({ min: Date.UTC(2026, 0, 1) / MINUTE, max: Date.UTC(2027, 11, 31) / MINUTE }).map((m) => m * MINUTE),
    // Sessions from five minutes to sixty days away.
    sessionIn: fc.oneof(logUniform(5 * MINUTE, 2 * HOUR), logUniform(2 * HOUR, 2 * DAY), logUniform(2 * DAY, 60 * DAY)),
    contact: fc.constantFrom('email' as const, 'sms' as const, 'phone' as const, 'voicemail' as const),
    slots: fc.option(fc.array(logUniform(HOUR, 30 * DAY), { minLength: 1, maxLength: 3 }), { freq: 3 }),
    callbackIn: logUniform(30 * MINUTE, 10 * DAY),
    risk: fc.boolean(),
    returnIn: fc.option(fc.integer({ min: 0, max: 70 }), { freq: 2 }),
    mpb: fc.boolean(),
    siblings: fc.boolean(),
    client: fc.constantFrom('ok' as const, 'ok' as const, 'rejected' as const, 'bounce' as const, 'undelivered' as const, 'accepted-only' as const),
    teamsDown: fc.subarray(['risk', 'support', 'network', 'lead'] as Team[]),
    therapistDown: fc.boolean(),
    providerDown: fc.boolean(),
    mpbDown: fc.boolean(),
    quiet: fc.boolean(),
  })
  .map((r) => {
    const start = r.t0 + r.sessionIn;
    const unique = [...new Set((r.slots ?? []).map((d) => start + d))].sort((a, b) => a - b);
    const input: CaseInput = {
      caseId: 'cm0000000000000000005',
      absenceId: 'a-model',
      siblingCaseIds: r.siblings ? ['cm0000000000000000001', 'cm0000000000000000009'] : [],
      submittedAt: new Date(r.t0).toISOString(),
      therapist: { id: 'T-1', name: 'Alex Morgan', email: 'alex@example.org' },
      reason: 'illness',
      expectedReturn: r.returnIn === null ? undefined : dateAfter(r.t0, r.returnIn),
      session: { id: 'S-1', startsAt: new Date(start).toISOString() },
      client: { ref: 'C-1', firstName: 'Sam', preferredContact: r.contact, email: 'sam@example.org', phone: '+447700900123' },
      rebook: unique.length > 0 ? { slots: unique.map((x) => new Date(x).toISOString()) } : { callbackBy: new Date(r.t0 + r.callbackIn).toISOString() },
      risk: r.risk ? { concern: true, note: 'canary-risk-note' } : undefined,
      policy: DEFAULT_POLICY,
      recordsMode: r.mpb ? 'mpb' : 'attestation',
    };
    return {
      input,
      policy: DEFAULT_POLICY,
      faults: { client: r.client, teamsDown: r.teamsDown, therapistDown: r.therapistDown, providerDown: r.providerDown, mpbDown: r.mpbDown },
    };
  });

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ t: fc.constant('advance' as const), ms: logUniform(MINUTE, 5 * DAY) }) },
  { weight: 10, arbitrary: fc.record({ t: fc.constant('complete' as const), pick: fc.nat(), found: fc.nat({ max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('choose' as const), pick: fc.nat({ max: 3 }) }) },
  fc.constant({ t: 'requestCall' as const }),
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('phone' as const),
      reached: fc.boolean(),
      agreed: fc.constantFrom('slot' as const, 'callback' as const, 'none' as const),
      days: fc.integer({ min: 1, max: 40 }),
      role: fc.constantFrom(...ROLES),
      team: fc.option(fc.constant('support' as const), { nil: undefined }),
      handOver: fc.boolean(),
    }),
  },
  fc.record({ t: fc.constant('rebook' as const), days: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ t: fc.constant('absence' as const), days: fc.integer({ min: 0, max: 60 }) }),
  fc.constant({ t: 'back' as const }),
  fc.record({ t: fc.constant('cover' as const), on: fc.boolean() }),
  fc.constant({ t: 'overrun' as const }),
  { weight: 3, arbitrary: fc.record({ t: fc.constant('record' as const), which: fc.constantFrom('attendance' as const, 'clinicalNote' as const, 'nextSession' as const) }) },
  fc.constant({ t: 'recordsDown' as const }),
  fc.record({ t: fc.constant('risk' as const), source: fc.constantFrom('client' as const, ...ROLES) }),
  fc.record({ t: fc.constant('unhappy' as const), source: fc.constantFrom('client' as const, 'therapist' as const), cannotWait: fc.boolean() }),
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('ack' as const),
      pick: fc.nat(),
      role: fc.constantFrom(...ROLES),
      team: fc.option(fc.constantFrom(...TEAMS_OF_STAFF), { nil: undefined }),
    }),
  },
  fc.record({ t: fc.constant('close' as const), role: fc.constantFrom(...ROLES), disposition: fc.boolean(), waiver: fc.boolean() }),
  fc.constant({ t: 'seen' as const }),
  fc.record({ t: fc.constant('slotTaken' as const), pick: fc.nat({ max: 3 }), earlier: fc.boolean() }),
);

/** What one step did: the event applied (if any), its commands, and the clock before and after. */
export interface Applied {
  event: CaseEvent;
  before: CaseState;
  commands: Command[];
  at: number;
}

/** Called with the state as it stands at the instant the cancelled session starts. */
export type AtSessionStart = (state: CaseState, now: number) => void;

/** What invariants compare before and after a step: the stage, which escalations were acknowledged, which messages, obligations and withdrawn times there were, whether the therapist was back. */
function snapshot(s: CaseState): CaseState {
  return { ...s, escalations: s.escalations.map((e) => ({ ...e })), messages: [...s.messages], obligations: [...s.obligations], withdrawnSlots: [...s.withdrawnSlots], absence: { ...s.absence } };
}

export class World {
  state: CaseState;
  now: number;
  readonly pending: Command[] = [];
  /** Follow-ups a channel owes later: a bounce, a Notify status. */
  private readonly later: CaseEvent[] = [];
  /** What the absence has told the case so far. */
  private news: AbsenceNews = { returned: false };
  /** Every event applied, for the message of a failing case: [time, event type, commands]. */
  private readonly events: [number, string, string][] = [];
  readonly start: number;

  constructor(
    readonly scenario: Scenario,
    private readonly onApplied: (a: Applied, after: CaseState) => void,
    private readonly atSessionStart: AtSessionStart,
    /** Copy the state before each event (for invariants comparing before and after); costs time. */
    private readonly keepBefore = true,
    /** Told the world before its first event, so callbacks can read its log. */
    onCreate?: (w: World) => void,
  ) {
    onCreate?.(this);
    this.now = Date.parse(scenario.input.submittedAt);
    this.start = Date.parse(scenario.input.session.startsAt);
    this.state = initialState(scenario.input);
    this.event({ type: 'start' });
  }

  /** The last events, readable: for the message of a failing case. */
  log(last = 25): string[] {
    return this.events.slice(-last).map(([t, type, cmds]) => `${new Date(t).toISOString()} ${type}${cmds ? ` -> ${cmds}` : ''}`);
  }

  get open(): boolean {
    return this.state.stage !== 'completed' && this.state.stage !== 'closed';
  }

  /** Applies an event as the shell does: validated first (a refused update changes nothing). */
  event(event: CaseEvent): boolean {
    if (refusal(this.state, event, this.now, this.scenario.policy)) return false;
    const before = this.keepBefore ? snapshot(this.state) : this.state;
    const commands = apply(this.state, event, this.now, this.scenario.policy);
    this.events.push([this.now, event.type, commands.length ? commands.map((c) => c.type).join(',') : '']);
    for (const c of commands) if (c.type !== 'reportToAbsence') this.pending.push(c);
    this.onApplied({ event, before, commands, at: this.now }, this.state);
    return true;
  }

  /** Moves the clock, firing every timer due on the way in order, as the shell's timers do. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (let guard = 0; guard < 1_000; guard++) {
      const next = wakeups(this.state)[0];
      if (!next || next.at > target) break;
      this.crossStart(next.at);
      this.now = Math.max(this.now, next.at);
      this.event({ type: 'tick' });
    }
    this.crossStart(target);
    this.now = target;
  }

  private crossStart(to: number): void {
    if (this.now < this.start && to >= this.start) this.atSessionStart(this.state, this.start);
  }

  /** Completes one command in flight as the case's channels would. */
  complete(pick: number, found: number): void {
    if (this.later.length > 0 && pick % 3 === 0) {
      this.event(this.later.shift()!);
      return;
    }
    if (this.pending.length === 0) return;
    const c = this.pending.splice(pick % this.pending.length, 1)[0]!;
    const f = this.scenario.faults;
    const ok = (channel: 'email' | 'sms', key: string, extra: object = {}) =>
      this.event({ type: 'sent', key, delivery: { channel, messageId: `<${key}@model>`, acceptedAt: new Date(this.now).toISOString(), ...extra } });
    switch (c.type) {
      case 'notifyClient': {
        const { channel } = c.notice;
        if (f.client === 'rejected') this.event({ type: 'sendFailed', key: c.key, reason: 'ChannelRejected' });
        else if (channel === 'sms') {
          ok('sms', c.key, { notifyId: `n-${c.key}` });
        } else {
          ok('email', c.key);
          if (f.client === 'bounce') this.later.push({ type: 'deliveryReport', report: { step: c.key, status: 'failed', reason: '5.1.1' } });
          if (f.client === 'ok') this.later.push({ type: 'deliveryReport', report: { step: c.key, status: 'delivered' } });
        }
        return;
      }
      case 'smsStatus':
        if (f.client === 'accepted-only') return;
        this.event({ type: 'deliveryReport', report: { step: c.key, status: f.client === 'ok' ? 'delivered' : 'failed', reason: 'permanent-failure' } });
        return;
      case 'notifyTherapist':
        if (f.therapistDown) this.event({ type: 'sendFailed', key: c.key, reason: 'ChannelRejected' });
        else ok('email', c.key);
        return;
      case 'notifyProvider':
        if (f.providerDown) this.event({ type: 'sendFailed', key: c.key, reason: 'ChannelRejected' });
        else ok('email', c.key);
        return;
      case 'escalate':
        if (f.teamsDown.includes(c.notice.recipient ?? c.notice.team)) this.event({ type: 'sendFailed', key: c.key, reason: 'ChannelRejected' });
        else ok('email', c.key);
        return;
      case 'checkRecords': {
        if (f.mpbDown) {
          this.event({ type: 'recordsChecked', error: 'MPB unavailable' });
          return;
        }
        const status: RecordsStatus = { attendance: (found & 1) > 0, clinicalNote: (found & 2) > 0, nextSession: (found & 4) > 0 };
        this.event({ type: 'recordsChecked', found: status });
        return;
      }
      default:
        return;
    }
  }

  /**
   * Lets the case run on, every channel answering, until a day past the session and three days
   * past the last step, so the session's start and the deadlines near it are crossed.
   */
  settle(): void {
    const until = Math.max(this.start + DAY, this.now + 3 * DAY);
    while (this.now < until && this.open) {
      while (this.pending.length > 0) this.complete(0, 7);
      this.advance(Math.min(DAY / 2, until - this.now));
    }
  }

  /** Runs one generated step. */
  run(step: Step): void {
    const { input } = this.scenario;
    const slots = 'slots' in input.rebook ? input.rebook.slots : [];
    const inDays = (d: number) => new Date(this.now + d * DAY).toISOString();
    const staff = (role: StaffRole, team?: 'network' | 'risk' | 'support') => ({ by: `${role}-1`, role, ...(team ? { team } : {}) });
    switch (step.t) {
      case 'advance':
        return this.advance(step.ms);
      case 'complete':
        return this.complete(step.pick, step.found);
      case 'choose':
        if (slots.length) this.event({ type: 'chooseSlot', slot: slots[step.pick % slots.length]! });
        return;
      case 'requestCall':
        this.event({ type: 'requestCall' });
        return;
      case 'phone':
        this.event({
          type: 'phoneOutcome',
          ...staff(step.role, step.role === 'escalation-team' ? step.team : undefined),
          reached: step.reached,
          ...(!step.reached && step.handOver ? { handOver: true } : {}),
          ...(step.reached && step.agreed === 'slot' ? { rebookedSlot: inDays(step.days) } : {}),
          ...(step.reached && step.agreed === 'callback' ? { callbackBy: inDays(step.days / 4) } : {}),
        });
        return;
      case 'rebook':
        this.event({ type: 'rebooking', ...staff('therapist'), slot: inDays(step.days) });
        return;
      // What the absence would tell the case (the absence itself is driven in test/core/absence.property.test.ts).
      case 'absence':
        this.news = { ...this.news, expectedReturn: new Date(this.now + step.days * DAY).toISOString().slice(0, 10) };
        this.event({ type: 'absence', news: { ...this.news, by: 'therapist-1' } });
        return;
      case 'back':
        this.news = { ...this.news, returned: true };
        this.event({ type: 'absence', news: this.news });
        return;
      case 'cover':
        this.news = { ...this.news, cover: step.on ? { ref: 'COV-1', name: 'Robin Lee', email: 'robin@example.org' } : undefined };
        this.event({ type: 'absence', news: this.news });
        return;
      case 'overrun':
        this.event({ type: 'absenceOverrun' });
        return;
      case 'record':
        this.event({ type: 'confirmRecord', ...staff('therapist'), record: step.which });
        return;
      case 'recordsDown':
        this.event({ type: 'recordsUnavailable', ...staff('therapist') });
        return;
      case 'risk':
        this.event({ type: 'raiseRisk', by: step.source === 'client' ? 'client' : `${step.source}-1`, source: step.source });
        return;
      case 'unhappy':
        this.event({ type: 'unhappy', by: step.source, source: step.source, cannotWait: step.cannotWait });
        return;
      case 'ack': {
        const escs = this.state.escalations;
        if (escs.length === 0) return;
        const esc = escs[step.pick % escs.length]!;
        this.event({ type: 'acknowledge', ...staff(step.role, step.team), escalationId: esc.id, note: 'in hand' });
        return;
      }
      case 'close':
        this.event({
          type: 'close',
          ...staff(step.role),
          reason: 'other',
          ...(step.disposition ? { riskDisposition: 'Risk duty phoned; handed to the crisis team' } : {}),
          ...(step.waiver ? { recordsWaiver: 'Client discharged; the service records the closure instead' } : {}),
        });
        return;
      case 'seen':
        this.event({ type: 'clientSeen' });
        return;
      case 'slotTaken':
        if (slots.length) this.event({ type: 'slotTaken', slot: slots[step.pick % slots.length]!, from: step.earlier ? 'cm0000000000000000001' : 'cm0000000000000000009' });
        return;
    }
  }
}

export { DEFAULT_POLICY };
