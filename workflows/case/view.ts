/**
 * What the case looks like from outside, as pure functions of its state: the staff view (query),
 * the one-line status for the Web UI, the search attributes leads filter on, and the times the
 * shell must wake up. None of them shows a client's name or contact details except the staff
 * view, which the web app shows only to signed-in staff.
 */
import { RECORDS, type CaseView, type Duty, type Escalation as EscalationView, type Owner } from '../../src/shared/case';
import { returnsAt } from '../../src/shared/policy';
import { formatUk } from '../../src/shared/time';
import { ownerName } from './core';
import type { CaseState, Escalation, Obligation } from './model';

const iso = (ms: number) => new Date(ms).toISOString();

const DISCHARGED_BY: Record<string, string> = {
  choose: 'the client, or anyone who records a rebooking',
  phone: 'whoever records the outcome of the call',
  callback: 'whoever records a rebooking or the outcome of the call',
  'follow-up': 'whoever records a rebooking or the outcome of the call',
  'confirm-told': 'a delivery receipt, the client responding, or a recorded call',
  'tell-client': 'whoever records the call to the client',
  records: 'a confirmation on this page, or MPB showing the records',
  rebook: 'whoever records the new booking',
};

function dischargedBy(ob: Obligation, esc?: Escalation): string {
  if (ob.kind !== 'acknowledge') return DISCHARGED_BY[ob.kind] ?? 'whoever does it';
  if (esc?.team === 'risk') return 'risk duty or a clinical lead';
  if (esc?.team === 'lead') return 'a clinical lead';
  return `the ${esc ? ownerName(esc.team) : 'team'} or a clinical lead`;
}

function duty(ob: Obligation, escalations: Escalation[]): Duty {
  const esc = ob.esc ? escalations.find((e) => e.id === ob.esc) : undefined;
  return {
    id: ob.id,
    kind: ob.kind,
    what: ob.what,
    owner: ob.owner,
    deadline: iso(ob.due),
    openedAt: iso(ob.opened),
    ...(ob.done ? {} : { nextChaseAt: iso(Math.min(ob.chaseAt, ob.remindAt ?? Infinity)) }),
    chases: ob.chases,
    ...(ob.attempts ? { attempts: ob.attempts } : {}),
    clientFacing: ob.clientFacing,
    dischargedBy: dischargedBy(ob, esc),
    ...(ob.esc ? { escalationId: ob.esc } : {}),
    ...(ob.done ? { metAt: iso(ob.done.at), metBy: ob.done.by, outcome: ob.done.outcome, ...(ob.done.note ? { note: ob.done.note } : {}) } : {}),
  };
}

function escalation(e: Escalation, obligations: Obligation[]): EscalationView {
  const ob = obligations.find((o) => o.id === e.ob);
  return {
    id: e.id,
    team: e.team,
    reason: e.reason,
    at: iso(e.at),
    alerts: e.alerts,
    lastAlertAt: iso(e.lastAlert),
    delivery: e.delivery,
    ...(e.deliveryNote ? { deliveryNote: e.deliveryNote } : {}),
    ...(!e.ack && ob && !ob.done ? { nextAlertAt: iso(ob.chaseAt) } : {}),
    ...(e.ack ? { acknowledgedAt: iso(e.ack.at), acknowledgedBy: e.ack.by, ...(e.ack.note ? { acknowledgedNote: e.ack.note } : {}) } : {}),
  };
}

/** The open obligation a case is waiting on first: the soonest deadline. */
export function nextDuty(state: CaseState): Obligation | undefined {
  let next: Obligation | undefined;
  for (const ob of state.obligations) if (!ob.done && (!next || ob.due < next.due)) next = ob;
  return next;
}

/** The case's main line of work: the open obligation that is not an acknowledgement or records, if any. */
function mainDuty(state: CaseState): Obligation | undefined {
  const open = state.obligations.filter((o) => !o.done);
  return open.find((o) => o.kind !== 'acknowledge' && o.kind !== 'records') ?? open.find((o) => o.kind === 'records') ?? open[0];
}

export function view(state: CaseState, extras: { sending: number; timers: number[]; now: number }): CaseView {
  const { input } = state;
  const next = nextDuty(state);
  return {
    caseId: input.caseId,
    absenceId: input.absenceId,
    siblingCaseIds: input.siblingCaseIds,
    stage: state.stage,
    status: describe(state),
    therapistId: input.therapist.id,
    therapistName: input.therapist.name,
    clientFirstName: input.client.firstName,
    preferredContact: input.client.preferredContact,
    clientContact: { ref: input.client.ref, ...(input.client.email ? { email: input.client.email } : {}), ...(input.client.phone ? { phone: input.client.phone } : {}) },
    sessionStartsAt: input.session.startsAt,
    offeredSlots: state.offeredSlots.filter((s) => !state.takenSlots.includes(s) && !state.awaySlots.includes(s)),
    bookedSlot: state.bookedSlot,
    withdrawnSlots: state.withdrawnSlots,
    callbackBy: state.callbackBy,
    expectedReturn: state.expectedReturn,
    nextDeadline: next ? iso(next.due) : undefined,
    duties: state.obligations.map((o) => duty(o, state.escalations)),
    escalations: state.escalations.map((e) => escalation(e, state.obligations)),
    clientMessages: state.messages
      .filter((m) => m.to === 'client')
      .map((m) => ({ key: m.key, kind: m.kind, channel: m.channel ?? 'email', status: m.status, at: iso(m.at), ...(m.sendAt ? { sendAt: iso(m.sendAt) } : {}), ...(m.note ? { note: m.note } : {}) })),
    told: state.told ? { at: iso(state.told.at), how: state.told.how } : undefined,
    timeline: state.timeline,
    timelineDropped: state.timelineDropped,
    risk: state.risk,
    riskNote: state.riskNote ?? input.risk?.note,
    records: state.records,
    recordsMode: input.recordsMode,
    recordsUnavailable: state.recordsUnavailable,
    closed: state.closed ? { ...state.closed, at: iso(state.closed.at) } : undefined,
    sending: extras.sending,
    timers: extras.timers.map(iso),
    therapistAway: !state.absence.returned && !!state.expectedReturn && extras.now < returnsAt(state.expectedReturn),
    ...(state.absence.cover ? { cover: state.absence.cover } : {}),
    ...(input.followOn ? { followsCaseId: input.followOn.fromCaseId } : {}),
  };
}

/** The case in one sentence, without the client's name (it is shown in the Web UI). */
export function describe(state: CaseState): string {
  const { input } = state;
  const duty = mainDuty(state);
  const who = duty ? whoName(duty.owner) : 'the therapist';
  const until = duty ? ` until ${formatUk(duty.due)}` : '';
  const unacked = state.escalations.filter((e) => !e.ack);
  const risk = unacked.some((e) => e.team === 'risk') ? ' A risk alert is waiting for risk duty.' : '';
  const escalated = unacked.length > 0 && !risk ? ' Escalated, awaiting acknowledgement.' : risk;
  switch (state.stage) {
    case 'contacting':
      return `Telling the client by ${input.client.preferredContact}.${escalated}`;
    case 'awaiting-choice': {
      const n = state.offeredSlots.filter((s) => !state.takenSlots.includes(s) && !state.awaySlots.includes(s)).length;
      return `Waiting for the client's choice${until}; ${n} time${n === 1 ? '' : 's'} offered.${escalated}`;
    }
    case 'awaiting-callback':
      return `Waiting for ${who} to call the client back to rebook${until}.${escalated}`;
    case 'awaiting-phone-outcome':
      return `Waiting for ${who} to phone the client${until}.${escalated}`;
    case 'awaiting-follow-up':
      return `Waiting for ${who} to agree a new time with the client${until}.${escalated}`;
    case 'awaiting-documentation': {
      if (duty?.kind === 'acknowledge') return `Rebooked and documented; waiting for the ${ownerName(duty.owner)} to acknowledge an escalation${until}.${escalated}`;
      const done = RECORDS.filter((r) => state.records[r].done).length;
      return `Rebooked for ${formatUk(state.bookedSlot!)}; waiting for ${who} to complete the MPB records (${done} of 3)${until}.${escalated}`;
    }
    case 'completed':
      return `Complete: rebooked for ${formatUk(state.bookedSlot!)} and documented.`;
    case 'closed':
      return `Closed by ${state.closed?.by ?? 'a clinical lead'}.`;
  }
}

function whoName(owner: Owner): string {
  return owner === 'client' ? 'the client' : `the ${ownerName(owner)}`;
}

/** The search attributes leads filter on (no personal data), from the state alone. */
export interface Attributes {
  stage: string;
  deadline?: number;
  owner?: string;
  teams: string[];
  risk: boolean;
  docs: boolean;
  unacked?: number;
  /** When the cancellation was submitted, and when the client was rebooked (the lead's charts). */
  cancelledAt: number;
  rebookedAt?: number;
}

export function attributes(state: CaseState): Attributes {
  const open = state.stage !== 'completed' && state.stage !== 'closed';
  const next = open ? nextDuty(state) : undefined;
  const main = open ? mainDuty(state) : undefined;
  // Until the client has been told, the case is due within contactWithinMs of submission, so a
  // case no worker ever picks up (or that is stuck telling the client) still turns late.
  const contactDue = Date.parse(state.input.submittedAt) + state.input.policy.contactWithinMs;
  const deadline = next?.due ?? (open && state.stage === 'contacting' ? contactDue : undefined);
  const unacked = state.escalations.filter((e) => !e.ack).map((e) => e.at);
  return {
    stage: state.stage,
    ...(deadline !== undefined ? { deadline } : {}),
    ...(main ? { owner: main.owner } : {}),
    teams: [...new Set(state.escalations.map((e) => e.team))].sort(),
    risk: state.risk,
    docs: RECORDS.every((r) => state.records[r].done),
    ...(unacked.length > 0 ? { unacked: Math.min(...unacked) } : {}),
    cancelledAt: Date.parse(state.input.submittedAt),
    ...(state.bookedSlot && state.bookedAt !== undefined ? { rebookedAt: state.bookedAt } : {}),
  };
}

/**
 * Teams with an escalation waiting for acknowledgement, and `<team>-late` for each whose
 * obligation has passed its deadline and been chased at least once (the EscalationsWaiting search
 * attribute). Sorted, so an unchanged state publishes an unchanged list.
 */
export function escalationsWaiting(state: CaseState): string[] {
  if (state.stage === 'completed' || state.stage === 'closed') return [];
  const out = new Set<string>();
  for (const e of state.escalations) {
    if (e.ack) continue;
    out.add(e.team);
    const ob = state.obligations.find((o) => o.id === e.ob);
    if (ob && !ob.done && ob.chases > 0) out.add(`${e.team}-late`);
  }
  return [...out].sort();
}

export type WakeReason = 'deadline' | 'reminder' | 'told-check' | 'absence' | 'records-check' | 'message';

/** Every future moment the case must look at itself, with what for (for the timer's summary in the Web UI). */
export function wakeups(state: CaseState): { at: number; why: string }[] {
  if (state.stage === 'completed' || state.stage === 'closed') return [];
  const out: { at: number; why: string }[] = [];
  for (const ob of state.obligations) {
    if (ob.done) continue;
    out.push({ at: ob.chaseAt, why: `${ob.chases === 0 ? 'Deadline' : 'Chase'}: ${ob.what}`.slice(0, 120) });
    if (ob.remindAt !== undefined) out.push({ at: ob.remindAt, why: 'Reminder before the promised callback' });
  }
  if (state.toldCheckAt !== undefined) out.push({ at: state.toldCheckAt, why: 'Check that the client knows of the cancellation' });
  if (state.docsCheckAt !== undefined) out.push({ at: state.docsCheckAt, why: 'Next check of the MPB records' });
  for (const m of state.messages) if (m.status === 'deferred' && m.sendAt !== undefined) out.push({ at: m.sendAt, why: 'A message to the client, after the quiet hours' });
  return out.sort((a, b) => a.at - b.at);
}
