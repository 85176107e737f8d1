/**
 * Absences across submissions, at scale: one absence core and several case cores, wired as the
 * shells wire them (case reports to the absence, news and taken times to the cases, follow-on
 * cases started), driven by random submissions on different days, choices through the absence's
 * slot ledger (as CaseService claims them), returns moved and reported, covers, closures and the
 * clock. Invariants: no booked time inside a known absence, for open and finished cases alike;
 * one provider notice per change of an absence; no two clients of the therapist booked into one
 * time; and every single-case invariant for every case.
 *
 * FC_ABSENCE_RUNS sets the count (2,000 by default); FC_SEED replays a printed seed.
 */
import fc from 'fast-check';
import type { AbsenceInput } from '../../src/shared/absence';
import type { CaseInput } from '../../src/shared/case';
import { returnsAt } from '../../src/shared/policy';
import { absenceRefusal, absenceWakeups, applyAbsence, initialAbsence, type AbsenceCommand, type AbsenceEvent, type AbsenceState } from '../../workflows/absence/core';
import { apply, initialState, refusal } from '../../workflows/case/core';
import type { CaseEvent, CaseState, Command } from '../../workflows/case/model';
import { wakeups } from '../../workflows/case/view';
import { STEP_INVARIANTS } from './invariants';
import { DAY, DEFAULT_POLICY, HOUR, MINUTE } from './world';

const RUNS = Number(process.env.FC_ABSENCE_RUNS ?? 2_000);
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : (Date.now() + 7) % 2 ** 31;
const P = DEFAULT_POLICY;

type Step =
  | { t: 'submit'; sessionIn: number; slots: number[]; returnIn: number | null; contact: 'email' | 'sms' | 'phone' }
  | { t: 'choose'; pick: number; slot: number }
  | { t: 'report'; returnIn: number }
  | { t: 'back' }
  | { t: 'cover'; on: boolean }
  | { t: 'records'; pick: number }
  | { t: 'close'; pick: number }
  | { t: 'providerFails' }
  | { t: 'advance'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('submit' as const), sessionIn: fc.integer({ min: 1, max: 20 * 24 }), slots: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 3 }), returnIn: fc.option(fc.integer({ min: 0, max: 30 })), contact: fc.constantFrom('email' as const, 'sms' as const, 'phone' as const) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('choose' as const), pick: fc.nat(), slot: fc.nat({ max: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('report' as const), returnIn: fc.integer({ min: 0, max: 40 }) }) },
  fc.constant({ t: 'back' as const }),
  fc.record({ t: fc.constant('cover' as const), on: fc.boolean() }),
  { weight: 2, arbitrary: fc.record({ t: fc.constant('records' as const), pick: fc.nat() }) },
  fc.record({ t: fc.constant('close' as const), pick: fc.nat() }),
  fc.constant({ t: 'providerFails' as const }),
  { weight: 4, arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.integer({ min: MINUTE, max: 4 * DAY }) }) },
);

class Violation extends Error {}

/** The therapist's world: one absence, its cases, and a clock, wired as the shells wire them. */
class AbsenceWorld {
  now: number;
  readonly absence: AbsenceState;
  readonly cases = new Map<string, CaseState>();
  private n = 0;
  /** Provider notices of a change, by the expected return they announce. */
  readonly changeNotices: string[] = [];
  failProvider = false;

  constructor(t0: number) {
    this.now = t0;
    const input: AbsenceInput = { absenceId: 'a-model', therapist: { id: 'T-9', name: 'Alex', email: 'alex@example.org' }, policy: P, openedAt: new Date(t0).toISOString() };
    this.absence = initialAbsence(input);
  }

  toAbsence(event: AbsenceEvent): boolean {
    if (absenceRefusal(this.absence, event, this.now)) return false;
    const commands = applyAbsence(this.absence, event, this.now, P);
    this.fromAbsence(commands);
    return true;
  }

  private fromAbsence(commands: AbsenceCommand[]): void {
    for (const c of commands) {
      switch (c.type) {
        case 'news':
          this.toCase(c.caseId, { type: 'absence', news: c.news });
          break;
        case 'overrun':
          this.toCase(c.caseId, { type: 'absenceOverrun' });
          break;
        case 'slotTaken':
          this.toCase(c.caseId, { type: 'slotTaken', slot: c.slot, from: c.from });
          break;
        case 'startCase':
          this.startCase(c.input);
          break;
        case 'notifyProvider':
          if (c.notice.kind === 'absenceStarted' || c.notice.kind === 'absenceExtended' || c.notice.kind === 'absenceShortened') this.changeNotices.push(c.notice.expectedReturn ?? '');
          this.toAbsence(this.failProvider ? { type: 'sendFailed', key: c.key, reason: 'ChannelRejected' } : { type: 'sent', key: c.key });
          break;
        default:
          this.toAbsence({ type: 'sent', key: c.key });
      }
    }
  }

  startCase(input: CaseInput): void {
    const s = initialState(input);
    this.cases.set(input.caseId, s);
    this.toCase(input.caseId, { type: 'start' });
  }

  toCase(caseId: string, event: CaseEvent): boolean {
    const s = this.cases.get(caseId);
    if (!s) return false;
    if (refusal(s, event, this.now, P)) return false;
    const before = { ...s, escalations: s.escalations.map((e) => ({ ...e })) };
    const commands = apply(s, event, this.now, P);
    for (const inv of STEP_INVARIANTS) {
      const problem = inv.check({ event, before, commands, at: this.now }, s, P);
      if (problem) throw new Violation(`case ${caseId}: ${inv.name}: ${problem}`);
    }
    this.fromCase(caseId, commands);
    return true;
  }

  private fromCase(caseId: string, commands: Command[]): void {
    for (const c of commands) {
      switch (c.type) {
        case 'reportToAbsence':
          this.toAbsence({ type: 'caseReport', report: c.report });
          break;
        case 'notifyClient':
        case 'notifyTherapist':
        case 'notifyProvider':
        case 'escalate':
          this.toCase(caseId, { type: 'sent', key: c.key, delivery: { channel: 'email', messageId: `<${c.key}@m>`, acceptedAt: '', delivered: true } });
          break;
        default:
          break;
      }
    }
  }

  submit(s: Extract<Step, { t: 'submit' }>): void {
    const id = `cm${String(++this.n).padStart(19, '0')}`;
    const start = this.now + s.sessionIn * HOUR;
    const expectedReturn = s.returnIn === null ? undefined : new Date(this.now + s.returnIn * DAY).toISOString().slice(0, 10);
    const input: CaseInput = {
      caseId: id,
      absenceId: 'a-model',
      siblingCaseIds: [],
      submittedAt: new Date(this.now).toISOString(),
      therapist: this.absence.input.therapist,
      reason: 'illness',
      expectedReturn,
      session: { id: `S-${this.n}`, startsAt: new Date(start).toISOString() },
      client: { ref: `C-${this.n}`, firstName: `Client${this.n}`, preferredContact: s.contact, email: 'c@example.org', phone: '+447700900123' },
      rebook: { slots: [...new Set(s.slots)].map((d) => new Date(start + d * DAY).toISOString()) },
      policy: P,
      recordsMode: 'attestation',
      absenceWorkflowId: 'absence-a-model',
    };
    // As CaseService does: join first, then start the case.
    this.toAbsence({ type: 'join', join: { caseId: id, sessionStartsAt: input.session.startsAt, submittedAt: input.submittedAt, ...(expectedReturn ? { expectedReturn } : {}), client: input.client, recordsMode: 'attestation' } });
    this.startCase(input);
  }

  /** A choice as CaseService makes it: claimed at the absence, then booked; given back if refused. */
  choose(caseId: string, slot: string): void {
    const s = this.cases.get(caseId)!;
    if (refusal(s, { type: 'chooseSlot', slot }, this.now, P)) return;
    if (!this.toAbsence({ type: 'claim', claim: { caseId, slot } })) return;
    if (!this.toCase(caseId, { type: 'chooseSlot', slot })) this.toAbsence({ type: 'release', claim: { caseId, slot } });
  }

  advance(ms: number): void {
    const target = this.now + ms;
    for (let guard = 0; guard < 2_000; guard++) {
      let next: { at: number; who: string } | undefined;
      for (const w of absenceWakeups(this.absence)) if (!next || w.at < next.at) next = { at: w.at, who: '' };
      for (const [id, s] of this.cases) for (const w of wakeups(s).slice(0, 1)) if (!next || w.at < next.at) next = { at: w.at, who: id };
      if (!next || next.at > target) break;
      this.now = Math.max(this.now, next.at);
      if (next.who) this.toCase(next.who, { type: 'tick' });
      else this.toAbsence({ type: 'tick' });
      this.checkAbsence();
    }
    this.now = target;
  }

  /** No booked time inside a known absence (open or finished); one notice per change; one client per time. */
  checkAbsence(): void {
    const a = this.absence;
    const back = a.expectedReturn && !a.returnedAt ? returnsAt(a.expectedReturn) : undefined;
    const booked = new Map<string, string>();
    for (const entry of a.cases) {
      const live = this.cases.get(entry.caseId);
      const slot = live && (live.stage !== 'completed' && live.stage !== 'closed') ? live.bookedSlot : entry.followedBy ? undefined : entry.bookedSlot;
      if (!slot) continue;
      if (back !== undefined && Date.parse(slot) < back && Date.parse(slot) > this.now && live?.stage !== 'closed') {
        throw new Violation(`no booked slot inside a known absence: ${entry.caseId} booked ${slot}, expected back ${a.expectedReturn}`);
      }
      const other = booked.get(slot);
      if (other && other !== entry.caseId && live?.stage !== 'closed') throw new Violation(`two clients booked at ${slot}: ${other} and ${entry.caseId}`);
      booked.set(slot, entry.caseId);
    }
    // A return moved A -> B -> A is three changes; the same return announced twice in a row is not.
    for (let i = 1; i < this.changeNotices.length; i++) {
      if (this.changeNotices[i] === this.changeNotices[i - 1]) throw new Violation(`one provider notice per change of an absence: two in a row for ${this.changeNotices[i] || 'no date'}`);
    }
    // A provider notice that could not be sent is a duty for support with a deadline and a chase.
    for (const n of a.notices) {
      if (n.to !== 'provider' || n.status !== 'failed') continue;
      const duty = a.duties.find((d) => d.id === n.duty);
      if (!duty) throw new Violation(`a failed provider notice (${n.kind}) has no duty for support`);
      if (!duty.done && !(duty.chaseAt > this.now - 1)) throw new Violation(`the duty for a failed provider notice is past its chase and not chased: ${duty.what}`);
    }
  }

  /** One step of the world, checked once every message it caused has been carried (as the shells settle). */
  run(s: Step): void {
    this.step(s);
    try {
      this.checkAbsence();
    } catch (e) {
      if (e instanceof Violation) e.message += ` (after ${JSON.stringify(s)} at ${new Date(this.now).toISOString()}; cases: ${JSON.stringify(this.absence.cases.map((c) => ({ id: c.caseId.slice(-2), stage: this.cases.get(c.caseId)?.stage, booked: this.cases.get(c.caseId)?.bookedSlot ?? c.bookedSlot, followedBy: c.followedBy?.slice(-2) })))})`;
      throw e;
    }
  }

  private step(s: Step): void {
    const ids = [...this.cases.keys()];
    const pick = (n: number) => ids[n % Math.max(ids.length, 1)];
    switch (s.t) {
      case 'submit':
        return this.submit(s);
      case 'choose': {
        const id = pick(s.pick);
        const c = id ? this.cases.get(id) : undefined;
        if (c && 'slots' in c.input.rebook && c.input.rebook.slots.length > 0) this.choose(id!, c.input.rebook.slots[s.slot % c.input.rebook.slots.length]!);
        return;
      }
      case 'report':
        this.toAbsence({ type: 'report', by: 'T-9', expectedReturn: new Date(this.now + s.returnIn * DAY).toISOString().slice(0, 10) });
        return;
      case 'back':
        this.toAbsence({ type: 'back', by: 'T-9' });
        return;
      case 'cover':
        this.toAbsence({ type: 'cover', by: 'LEAD', ...(s.on ? { cover: { ref: 'COV', name: 'Robin', email: 'robin@example.org' } } : {}) });
        return;
      case 'records': {
        const id = pick(s.pick);
        if (id) for (const record of ['attendance', 'clinicalNote', 'nextSession'] as const) this.toCase(id, { type: 'confirmRecord', by: 'T-9', role: 'therapist', record });
        return;
      }
      case 'close': {
        const id = pick(s.pick);
        if (id) this.toCase(id, { type: 'close', by: 'LEAD', role: 'clinical-lead', reason: 'other', riskDisposition: 'held by the crisis team', recordsWaiver: 'recorded elsewhere' });
        return;
      }
      case 'providerFails':
        this.failProvider = !this.failProvider;
        return;
      case 'advance':
        return this.advance(s.ms);
    }
  }
}

test(`A1-A9 absences across submissions keep every invariant over ${RUNS} random absences (seed ${SEED}; replay with FC_SEED=${SEED}): no booked slot inside a known absence, one provider notice per change of an absence, a failed provider notice owned by support, one client per time`, () => {
  process.stdout.write(`[absence property] FC_SEED=${SEED} runs=${RUNS}\n`);
  fc.assert(
    fc.property(fc.integer({ min: Date.UTC(2026, 0, 1) / MINUTE, max: Date.UTC(2027, 11, 31) / MINUTE }), fc.array(step, { minLength: 1, maxLength: 40 }), (t0m, steps) => {
      const world = new AbsenceWorld(t0m * MINUTE);
      for (const s of steps) world.run(s);
      world.advance(10 * DAY);
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
}, 300_000);
