/**
 * Escalation events counted where they happen: inside the case, as the core changes its state.
 *
 * Why here and not elsewhere: an escalation is opened, chased and acknowledged by the pure core,
 * often on a timer, with no activity or web request to count it at (an acknowledgement is a Workflow
 * Update; a chase is a timer firing). The workflow's `metricMeter` emits through the worker's
 * Temporal runtime, which serves them on its Prometheus port, and it drops whatever is emitted while
 * a workflow replays, so a worker restart or a cache eviction never counts an event twice. The
 * states that alerts need (a risk alert still waiting past its window, an overdue obligation) are
 * gauges from visibility counts instead (src/ops/case-gauges.ts): a counter says something
 * happened, not that it is still true.
 *
 * Labels: the team only (and the SDK's namespace, task queue and workflow type).
 */
import type { MetricCounter } from '@temporalio/common';
import { metricMeter } from '@temporalio/workflow';
import { TEAMS, type Team } from '../../src/shared/case';
import type { CaseState } from './model';

/** What an escalation looked like before an event, enough to see what the event changed. */
export interface EscalationMark {
  id: string;
  team: Team;
  acked: boolean;
  alerts: number;
  delivery: string;
}

export type EscalationEvent = 'opened' | 'delivered' | 'acknowledged' | 'late';

export function escalationMarks(state: CaseState): EscalationMark[] {
  return state.escalations.map((e) => ({
    id: e.id,
    team: e.team,
    acked: !!e.ack,
    alerts: e.alerts,
    delivery: e.delivery,
  }));
}

/**
 * The escalation events between two moments of a case. Opened: a new escalation. Delivered: an
 * alert (first or chase) left sending for accepted or delivered. Acknowledged: by its team or a
 * lead. Late: sent a second time, because nobody acknowledged it (or did its task) in time; once
 * per escalation.
 */
export function escalationEvents(before: EscalationMark[], after: CaseState): { event: EscalationEvent; team: Team }[] {
  const out: { event: EscalationEvent; team: Team }[] = [];
  const earlier = new Map(before.map((m) => [m.id, m]));
  for (const e of after.escalations) {
    const was = earlier.get(e.id);
    if (!was) out.push({ event: 'opened', team: e.team });
    // Each alert starts at `sending` (core.ts), so every alert that gets out counts once.
    if (reached(e.delivery) && !(was && reached(was.delivery))) out.push({ event: 'delivered', team: e.team });
    if (e.ack && !was?.acked) out.push({ event: 'acknowledged', team: e.team });
    if (e.alerts >= 2 && (was?.alerts ?? 0) < 2) out.push({ event: 'late', team: e.team });
  }
  return out;
}

const reached = (delivery: string) => delivery === 'accepted' || delivery === 'delivered';

const HELP: Record<EscalationEvent, string> = {
  opened: 'Escalations opened, by team',
  delivered: "Escalation alerts (first or chase) accepted by the team's mail relay or confirmed delivered, by team",
  acknowledged: 'Escalations acknowledged, by team',
  late: 'Escalations sent again because nobody acknowledged them (or did their task) in time, once each, by team',
};

let counters: Record<EscalationEvent, MetricCounter> | undefined;

/** Emits the events between `before` and the state now (nothing while the workflow replays). */
export function countEscalations(before: EscalationMark[], after: CaseState): void {
  const events = escalationEvents(before, after);
  if (events.length === 0) return;
  if (!counters) {
    counters = {
      opened: metricMeter.createCounter('shortnotice_escalations_opened', 'escalations', HELP.opened),
      delivered: metricMeter.createCounter('shortnotice_escalations_delivered', 'alerts', HELP.delivered),
      acknowledged: metricMeter.createCounter('shortnotice_escalations_acknowledged', 'escalations', HELP.acknowledged),
      late: metricMeter.createCounter('shortnotice_escalations_late', 'escalations', HELP.late),
    };
    // Every series from zero, so a rate sees the first event and a dashboard shows the quiet teams.
    for (const counter of Object.values(counters)) for (const team of TEAMS) counter.add(0, { team });
  }
  for (const { event, team } of events) counters[event].add(1, { team });
}
