/**
 * A therapist's absence as a pure decision function, like the case core: `decideAbsence(state,
 * event, now, policy)` gives the new state and the commands (tell the provider, alert a team, tell
 * the cases, start a follow-on case). It is the single place that knows every case of the absence,
 * across submissions, so the provider hears once per change, a time is booked once, a booking a
 * longer absence withdraws is handled even after its case finished, and the therapist's calls go to
 * whoever covers while they are away.
 */
import type { AbsenceInput, AbsenceJoin, AbsenceNews, CaseReport, Cover, SlotClaim } from '../../src/shared/absence';
import type { EscalationNotice, ProviderNotice, ProviderNoticeKind, TherapistNotice } from '../../src/shared/activities';
import type { CaseInput, TimelineEntry } from '../../src/shared/case';
import { absenceOverrunAt, isSignificantAbsence, returnsAt, type Policy } from '../../src/shared/policy';
import { formatUk, formatUkDate } from '../../src/shared/time';

export interface AbsenceCase extends AbsenceJoin {
  stage: string;
  open: boolean;
  bookedSlot?: string;
  /** A booking a longer absence withdrew after this case finished: its follow-on case's id. */
  followedBy?: string;
}

/** A task of the absence itself for support (pass on a notice the provider did not receive). */
export interface AbsenceDuty {
  id: string;
  what: string;
  due: number;
  chaseAt: number;
  chases: number;
  done?: { at: number; by: string };
}

export interface AbsenceNoticeRecord {
  key: string;
  to: 'provider' | 'network';
  kind: string;
  expectedReturn?: string;
  at: number;
  status: 'sending' | 'sent' | 'failed';
  duty?: string;
}

export interface AbsenceState {
  input: AbsenceInput;
  seq: number;
  expectedReturn?: string;
  returnedAt?: number;
  returnedBy?: string;
  cover?: Cover;
  cases: AbsenceCase[];
  claims: SlotClaim[];
  notices: AbsenceNoticeRecord[];
  /** The expected return the provider was last told of ('' for an absence with none yet). */
  providerToldFor?: string;
  /** The expected return the network team was last told of, for a significant absence. */
  networkToldFor?: string;
  overrunAt?: number;
  duties: AbsenceDuty[];
  timeline: TimelineEntry[];
}

export type AbsenceEvent =
  | { type: 'join'; join: AbsenceJoin }
  | { type: 'caseReport'; report: CaseReport }
  | { type: 'claim'; claim: SlotClaim }
  | { type: 'release'; claim: SlotClaim }
  | { type: 'report'; by: string; expectedReturn: string }
  | { type: 'back'; by: string }
  | { type: 'cover'; by: string; cover?: Cover }
  | { type: 'meetDuty'; by: string; id: string }
  | { type: 'tick' }
  | { type: 'sent'; key: string }
  | { type: 'sendFailed'; key: string; reason: string };

export type AbsenceCommand =
  | { type: 'notifyProvider'; key: string; notice: ProviderNotice }
  | { type: 'escalate'; key: string; notice: EscalationNotice }
  | { type: 'notifyTherapist'; key: string; notice: TherapistNotice }
  | { type: 'news'; caseId: string; news: AbsenceNews }
  | { type: 'overrun'; caseId: string }
  | { type: 'slotTaken'; caseId: string; slot: string; from: string }
  | { type: 'startCase'; input: CaseInput };

const LIMITS = { timeline: 100, notices: 60 } as const;

export function initialAbsence(input: AbsenceInput): AbsenceState {
  return { input, seq: 0, cases: [], claims: [], notices: [], duties: [], timeline: [] };
}

export function decideAbsence(state: AbsenceState, event: AbsenceEvent, now: number, policy: Policy): { state: AbsenceState; commands: AbsenceCommand[] } {
  const draft = JSON.parse(JSON.stringify(state)) as AbsenceState;
  return { state: draft, commands: applyAbsence(draft, event, now, policy) };
}

export function applyAbsence(state: AbsenceState, event: AbsenceEvent, now: number, policy: Policy): AbsenceCommand[] {
  const a = new Absence(state, now, policy);
  a.handle(event);
  a.settleDue();
  a.bound();
  return a.commands;
}

/** Why an action on the absence cannot be taken, in words for the person who tried. */
export function absenceRefusal(state: AbsenceState, event: AbsenceEvent, now: number): string | undefined {
  const away = (s: AbsenceState) => !s.returnedAt && !!s.expectedReturn;
  switch (event.type) {
    case 'claim': {
      const mine = state.claims.find((c) => c.slot === event.claim.slot);
      if (mine && mine.caseId !== event.claim.caseId) return 'That time has just been taken by another client; please choose another';
      if (away(state) && Date.parse(event.claim.slot) < returnsAt(state.expectedReturn!)) {
        return `The therapist is expected back on ${formatUkDate(state.expectedReturn!)}: choose a time from then on`;
      }
      return undefined;
    }
    case 'report':
      if (!/^\d{4}-\d{2}-\d{2}$/.test(event.expectedReturn) || Number.isNaN(Date.parse(event.expectedReturn))) return 'Enter the expected return as a date';
      if (absenceOverrunAt(event.expectedReturn) < now) return 'The expected return must be today or later';
      if (state.returnedAt) return 'The therapist has already reported being back';
      return undefined;
    case 'meetDuty':
      return state.duties.some((d) => d.id === event.id) ? undefined : 'There is no such duty on this absence';
    default:
      return undefined;
  }
}

/** Whether the absence has nothing left to do: the therapist is back (or no absence was given, or it passed) and every case settled. */
export function absenceOver(state: AbsenceState, now: number): boolean {
  const back = !!state.returnedAt || !state.expectedReturn || now > absenceOverrunAt(state.expectedReturn);
  return back && state.cases.length > 0 && state.cases.every((c) => !c.open) && state.duties.every((d) => d.done);
}

class Absence {
  readonly commands: AbsenceCommand[] = [];

  constructor(
    private readonly s: AbsenceState,
    private readonly now: number,
    private readonly p: Policy,
  ) {}

  private note(text: string, by?: string): void {
    this.s.timeline.push({ at: new Date(this.now).toISOString(), kind: 'event', text, ...(by ? { by } : {}) });
  }

  private key(name: string): string {
    return `${name}-${++this.s.seq}`;
  }

  private get away(): boolean {
    return !this.s.returnedAt && !!this.s.expectedReturn && this.now < returnsAt(this.s.expectedReturn);
  }

  private openCases(): AbsenceCase[] {
    return this.s.cases.filter((c) => c.open);
  }

  /** A case of the absence for a notice's link and facts: the first still open, else the latest. */
  private anchor(): AbsenceCase | undefined {
    return this.openCases()[0] ?? this.s.cases.at(-1);
  }

  private news(by?: string): AbsenceNews {
    return { ...(this.s.expectedReturn ? { expectedReturn: this.s.expectedReturn } : {}), returned: !!this.s.returnedAt, ...(this.s.cover ? { cover: this.s.cover } : {}), ...(by ? { by } : {}) };
  }

  private tellCases(by?: string): void {
    for (const c of this.openCases()) this.commands.push({ type: 'news', caseId: c.caseId, news: this.news(by) });
  }

  handle(e: AbsenceEvent): void {
    switch (e.type) {
      case 'join':
        return this.join(e.join);
      case 'caseReport':
        return this.caseReport(e.report);
      case 'claim':
        return this.claim(e.claim);
      case 'release':
        this.s.claims = this.s.claims.filter((c) => !(c.caseId === e.claim.caseId && c.slot === e.claim.slot));
        return;
      case 'report':
        return this.changeReturn(e.expectedReturn, e.by);
      case 'back':
        return this.back(e.by);
      case 'cover':
        this.s.cover = e.cover;
        this.note(e.cover ? `${e.cover.name} covers the therapist's calls and follow-ups` : 'Support covers the therapist\'s calls and follow-ups', e.by);
        this.tellCases(e.by);
        return;
      case 'meetDuty': {
        const d = this.s.duties.find((x) => x.id === e.id);
        if (d && !d.done) {
          d.done = { at: this.now, by: e.by };
          this.note(`Done: ${d.what}`, e.by);
        }
        return;
      }
      case 'sent':
      case 'sendFailed':
        return this.delivery(e.key, e.type === 'sent' ? undefined : e.reason);
      case 'tick':
        return;
    }
  }

  /** A case joins (a submission, a second submission of the same session): news of a later return is news for all. */
  private join(j: AbsenceJoin): void {
    const known = this.s.cases.find((c) => c.caseId === j.caseId);
    if (!known) {
      this.s.cases.push({ ...j, stage: 'contacting', open: true });
      this.note(`Session ${formatUk(j.sessionStartsAt)} cancelled and joined to this absence`);
    }
    const first = this.s.providerToldFor === undefined;
    const others = this.s.cases.some((c) => c.caseId !== j.caseId);
    if (j.expectedReturn && j.expectedReturn !== this.s.expectedReturn && !this.s.returnedAt) {
      if (first && !others) {
        // The provider hears of an absence once, when it starts with a return date to give.
        this.s.expectedReturn = j.expectedReturn;
        this.note(`Expected return ${formatUkDate(j.expectedReturn)}`);
        this.s.overrunAt = absenceOverrunAt(j.expectedReturn);
        this.tellProvider('absenceStarted');
        this.checkSignificant();
      } else {
        // A return first given, or moved, by a later submission is news for every case already
        // joined: a booking of theirs inside it is withdrawn, a finished one followed on (A1, A3).
        this.changeReturn(j.expectedReturn, 'a later submission');
      }
    } else if (first && this.s.expectedReturn) {
      this.tellProvider('absenceStarted');
      this.checkSignificant();
    }
    // A case joining later learns what the others already know (a cover, a moved return).
    if (!known && (this.s.cover || this.s.returnedAt || (this.s.expectedReturn && this.s.expectedReturn !== j.expectedReturn))) {
      this.commands.push({ type: 'news', caseId: j.caseId, news: this.news() });
    }
    for (const claim of this.s.claims) {
      if (claim.caseId !== j.caseId) this.commands.push({ type: 'slotTaken', caseId: j.caseId, slot: claim.slot, from: claim.caseId });
    }
  }

  private caseReport(r: CaseReport): void {
    const c = this.s.cases.find((x) => x.caseId === r.caseId);
    if (!c) return;
    c.stage = r.stage;
    c.open = r.open;
    c.bookedSlot = r.bookedSlot;
    // The ledger follows the case: a withdrawn booking frees its time; a closed case without one holds none.
    this.s.claims = this.s.claims.filter((x) => x.caseId !== r.caseId || x.slot === r.bookedSlot);
    if (r.bookedSlot && !this.s.claims.some((x) => x.slot === r.bookedSlot)) this.claim({ caseId: r.caseId, slot: r.bookedSlot });
  }

  /** A time claimed through the absence is taken for every other client of the therapist (A5). */
  private claim(claim: SlotClaim): void {
    if (this.s.claims.some((x) => x.caseId === claim.caseId && x.slot === claim.slot)) return;
    this.s.claims = this.s.claims.filter((x) => x.caseId !== claim.caseId);
    this.s.claims.push(claim);
    for (const c of this.openCases()) {
      if (c.caseId !== claim.caseId) this.commands.push({ type: 'slotTaken', caseId: c.caseId, slot: claim.slot, from: claim.caseId });
    }
  }

  /** The expected return moved: the provider hears once, every case hears, bookings inside it are withdrawn (A2, A3, A4). */
  private changeReturn(expectedReturn: string, by: string): void {
    if (expectedReturn === this.s.expectedReturn) return;
    const before = this.s.expectedReturn;
    this.s.expectedReturn = expectedReturn;
    this.s.overrunAt = absenceOverrunAt(expectedReturn);
    this.note(`Expected return now ${formatUkDate(expectedReturn)}`, by);
    this.tellProvider(before === undefined ? 'absenceStarted' : Date.parse(expectedReturn) > Date.parse(before) ? 'absenceExtended' : 'absenceShortened');
    this.checkSignificant();
    this.tellCases(by);
    // A finished case whose new session falls inside the absence cannot hear the news: a follow-on case tells the client and rebooks them.
    const back = returnsAt(expectedReturn);
    for (const c of this.s.cases) {
      if (c.open || !c.bookedSlot || c.followedBy || Date.parse(c.bookedSlot) >= back || Date.parse(c.bookedSlot) <= this.now) continue;
      this.followOn(c);
    }
    this.s.claims = this.s.claims.filter((x) => Date.parse(x.slot) >= back || this.s.cases.some((c) => c.open && c.caseId === x.caseId));
  }

  private followOn(c: AbsenceCase): void {
    const slot = c.bookedSlot!;
    const caseId = followOnId(c.caseId, slot);
    c.followedBy = caseId;
    this.s.claims = this.s.claims.filter((x) => !(x.caseId === c.caseId && x.slot === slot));
    const { input } = this.s;
    const join: AbsenceJoin = { caseId, sessionStartsAt: slot, submittedAt: new Date(this.now).toISOString(), client: c.client, recordsMode: c.recordsMode, ...(this.s.expectedReturn ? { expectedReturn: this.s.expectedReturn } : {}) };
    this.s.cases.push({ ...join, stage: 'contacting', open: true });
    this.note(`The new session on ${formatUk(slot)} of a finished case falls inside the absence: a follow-on case tells the client and rebooks them`);
    this.commands.push({
      type: 'startCase',
      input: {
        caseId,
        absenceId: input.absenceId,
        siblingCaseIds: [],
        submittedAt: join.submittedAt,
        therapist: input.therapist,
        reason: 'illness',
        expectedReturn: this.s.expectedReturn,
        session: { id: `${c.caseId}-withdrawn`, startsAt: slot },
        client: c.client,
        rebook: { slots: [] },
        policy: input.policy,
        recordsMode: c.recordsMode,
        absenceWorkflowId: `absence-${input.absenceId}`,
        followOn: { fromCaseId: c.caseId },
      },
    });
  }

  private back(by: string): void {
    if (this.s.returnedAt) return;
    this.s.returnedAt = this.now;
    this.s.returnedBy = by;
    this.s.overrunAt = undefined;
    this.note('The therapist is back', by);
    this.tellProvider('absenceEnded');
    this.tellCases(by);
  }

  /** The network team hears of a significant absence once, and again when its return moves. */
  private checkSignificant(): void {
    const r = this.s.expectedReturn;
    if (!r || this.s.networkToldFor === r) return;
    if (!isSignificantAbsence(this.p, Date.parse(this.s.input.openedAt), absenceOverrunAt(r))) return;
    this.s.networkToldFor = r;
    const a = this.anchor();
    if (!a) return;
    const key = this.key('escalate-network');
    this.s.notices.push({ key, to: 'network', kind: 'significant', expectedReturn: r, at: this.now, status: 'sending' });
    this.commands.push({
      type: 'escalate',
      key,
      notice: { caseId: a.caseId, step: key, team: 'network', reason: `Significant absence: the therapist expects to return ${formatUkDate(r)}; ${this.s.cases.length} session(s) cancelled so far`, therapistRef: this.s.input.therapist.id, sessionStartsAt: a.sessionStartsAt },
    });
  }

  private tellProvider(kind: ProviderNoticeKind): void {
    const a = this.anchor();
    if (!a) return;
    if (kind !== 'absenceOverrun') this.s.providerToldFor = this.s.expectedReturn ?? '';
    const key = this.key(kind);
    this.s.notices.push({ key, to: 'provider', kind, ...(this.s.expectedReturn ? { expectedReturn: this.s.expectedReturn } : {}), at: this.now, status: 'sending' });
    this.commands.push({
      type: 'notifyProvider',
      key,
      notice: { caseId: a.caseId, step: key, kind, therapistRef: this.s.input.therapist.id, sessionStartsAt: a.sessionStartsAt, expectedReturn: this.s.expectedReturn, sessions: this.s.cases.length },
    });
  }

  /** A notice the provider did not receive is a duty for support to pass it on, chased like any task. */
  private delivery(key: string, failure: string | undefined): void {
    const n = this.s.notices.find((x) => x.key === key);
    if (n) {
      n.status = failure ? 'failed' : 'sent';
      if (failure && n.to === 'provider' && !n.duty) {
        const what = `Pass the absence notice on to the provider (${n.kind}${n.expectedReturn ? `, expected back ${formatUkDate(n.expectedReturn)}` : ''}): it could not be sent (${failure})`;
        n.duty = this.supportDuty(what);
      }
      return;
    }
    // An alert to support that did not arrive: the network team hears at once.
    if (failure && key.startsWith('escalate-support')) this.alert('network', `An alert to support about a therapist's absence could not be delivered (${failure})`);
  }

  private supportDuty(what: string): string {
    const id = this.key('duty');
    const due = this.now + this.p.followUpWindowMs;
    this.s.duties.push({ id, what, due, chaseAt: due, chases: 0 });
    this.note(`For support: ${what}, by ${formatUk(due)}`);
    this.alert('support', what, due);
    return id;
  }

  private alert(team: 'support' | 'network', reason: string, deadline?: number): void {
    const a = this.anchor();
    if (!a) return;
    const key = this.key(`escalate-${team}`);
    this.commands.push({
      type: 'escalate',
      key,
      notice: { caseId: a.caseId, step: key, team, reason, therapistRef: this.s.input.therapist.id, sessionStartsAt: a.sessionStartsAt, ...(deadline ? { deadline: new Date(deadline).toISOString() } : {}) },
    });
  }

  settleDue(): void {
    for (const d of this.s.duties) {
      if (d.done || d.chaseAt > this.now) continue;
      if (d.chases === 0) this.alert('network', `Not done by support in time: ${d.what}`);
      else this.alert('support', `Reminder: ${d.what}`, d.due);
      d.chases++;
      d.chaseAt = this.now + this.p.reminderRepeatMs;
    }
    if (this.s.overrunAt !== undefined && this.s.overrunAt <= this.now) this.overrun();
  }

  /** W9 once per absence: the therapist and the provider hear, and each client still waiting (by their case). */
  private overrun(): void {
    const waiting = this.openCases().filter((c) => !c.bookedSlot);
    const r = this.s.expectedReturn;
    if (this.s.returnedAt || !r || waiting.length === 0) {
      this.s.overrunAt = undefined;
      return;
    }
    const a = waiting[0]!;
    const key = this.key('absenceOverrunReminder');
    this.commands.push({
      type: 'notifyTherapist',
      key,
      notice: { caseId: a.caseId, step: key, kind: 'absenceOverrunReminder', to: this.s.input.therapist.email, therapistName: this.s.input.therapist.name, clientRef: a.client.ref, clientFirstName: a.client.firstName, sessionStartsAt: a.sessionStartsAt, expectedReturn: r },
    });
    this.tellProvider('absenceOverrun');
    for (const c of waiting) this.commands.push({ type: 'overrun', caseId: c.caseId });
    this.s.overrunAt = this.now + this.p.absenceUpdateCadenceMs;
  }

  bound(): void {
    if (this.s.timeline.length > LIMITS.timeline) this.s.timeline.splice(0, this.s.timeline.length - LIMITS.timeline);
    if (this.s.notices.length > LIMITS.notices) this.s.notices.splice(0, this.s.notices.length - LIMITS.notices);
  }
}

/** The next moment the absence must look at itself, with what for. */
export function absenceWakeups(state: AbsenceState): { at: number; why: string }[] {
  const out: { at: number; why: string }[] = [];
  for (const d of state.duties) if (!d.done) out.push({ at: d.chaseAt, why: `Deadline: ${d.what}`.slice(0, 120) });
  if (state.overrunAt !== undefined) out.push({ at: state.overrunAt, why: "The therapist's expected return" });
  return out.sort((a, b) => a.at - b.at);
}

/**
 * The id of the case following a finished one whose booking a longer absence withdrew: derived
 * from that case and the slot (so it is the same on every replay), shaped like any case id.
 */
export function followOnId(fromCaseId: string, slot: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (const ch of `${fromCaseId}|${slot}`) {
    const c = ch.charCodeAt(0);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  const digits = `${h1.toString(36).padStart(7, '0')}${h2.toString(36).padStart(7, '0')}${((h1 ^ h2) >>> 0).toString(36).padStart(7, '0')}`;
  return `c${digits.slice(0, 20)}`;
}
