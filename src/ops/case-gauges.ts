/**
 * Gauges of where open cases stand, from visibility COUNT queries over the case search attributes,
 * refreshed when Prometheus scrapes (at most every few seconds): open obligations by owner, how
 * overdue, escalations waiting for acknowledgement by team and those past their window.
 *
 * Why visibility and not counters: an alert must say "a risk alert IS unacknowledged beyond its
 * window", a state that holds until someone acts, and only the cases themselves know it. Counting
 * over the search attributes asks Temporal once per scrape, holds in every process alike (any web
 * app gives the same numbers: rules take the max), and needs no clock in the workflow: the time
 * thresholds are RFC 3339 cutoffs computed here, as `npm run stuck` does (visibility.ts).
 *
 * The values are counts of cases. "Obligations open by owner" counts each open case once, under the
 * owner of its main obligation (NextStepOwner), which is what a lead's list shows.
 */
import type { Client } from '@temporalio/client';
import { Gauge } from 'prom-client';
import { TEAMS } from '../shared/case';
import type { Policy } from '../shared/policy';
import { EscalationsWaiting, NextDeadline, NextStepOwner } from '../shared/search-attributes';
import { livePollers } from './health';
import type { AppMetrics } from './metrics';
import { OPEN_CASES, rfc3339 } from './visibility';

/** NextStepOwner's values, and `none` for an open case with no owner yet (still telling the client). */
export const OWNERS = ['client', 'therapist', 'cover', 'support', 'network', 'risk', 'lead', 'none'] as const;

/** How far past its deadline: at all, beyond the policy's late margin, beyond a day. */
export const OVERDUE_BEYOND = ['deadline', 'late_margin', 'one_day'] as const;

/** Gauges are refreshed at most this often, however often they are scraped. */
const REFRESH_MS = 5_000;

export interface CaseGauges {
  /** Runs the counts (or reuses ones younger than a few seconds); never throws. */
  refresh(): Promise<void>;
}

export function createCaseGauges(o: {
  client: Client;
  namespace: string;
  taskQueue: string;
  policy: Pick<Policy, 'lateMarginMs'>;
  metrics: AppMetrics;
  now?: () => number;
}): CaseGauges {
  const now = o.now ?? Date.now;
  const registers = [o.metrics.registry];
  const open = new Gauge({ name: 'shortnotice_cases_open', help: 'Cases still running', registers });
  const obligations = new Gauge({
    name: 'shortnotice_obligations_open',
    help: 'Open cases by the owner of their main obligation (NextStepOwner; none: still telling the client)',
    labelNames: ['owner'],
    registers,
  });
  const overdue = new Gauge({
    name: 'shortnotice_obligations_overdue',
    help: 'Open cases whose next deadline passed, by owner, and by how far: at all, beyond the late margin, beyond a day',
    labelNames: ['owner', 'beyond'],
    registers,
  });
  const waiting = new Gauge({
    name: 'shortnotice_escalations_unacknowledged',
    help: 'Open cases with an escalation to the team waiting for acknowledgement',
    labelNames: ['team'],
    registers,
  });
  const late = new Gauge({
    name: 'shortnotice_escalations_unacknowledged_late',
    help: 'Open cases with an escalation to the team not acknowledged within its window (being chased)',
    labelNames: ['team'],
    registers,
  });
  const pollers = new Gauge({
    name: 'shortnotice_task_queue_pollers',
    help: 'Workers the server saw polling the task queue in the last 90 s, by task kind',
    labelNames: ['kind'],
    registers,
  });
  const up = new Gauge({
    name: 'shortnotice_case_gauges_up',
    help: '1 when the last visibility counts succeeded, 0 when Temporal did not answer them (the case gauges are stale)',
    registers,
  });

  const count = async (query: string) => Number((await o.client.workflow.count(query)).count);
  const ownerIs = (owner: (typeof OWNERS)[number]) =>
    owner === 'none' ? `${NextStepOwner.name} IS NULL` : `${NextStepOwner.name} = '${owner}'`;
  const cutoff = (beyond: (typeof OVERDUE_BEYOND)[number], at: number) =>
    rfc3339(at - (beyond === 'deadline' ? 0 : beyond === 'late_margin' ? o.policy.lateMarginMs : 86_400_000));

  async function collect(): Promise<void> {
    const at = now();
    const jobs: Promise<void>[] = [
      count(OPEN_CASES).then((n) => void open.set(n)),
      livePollers(o.client, o.namespace, o.taskQueue, at).then((p) => {
        pollers.set({ kind: 'workflow' }, p.workflow);
        pollers.set({ kind: 'activity' }, p.activity);
      }),
    ];
    for (const owner of OWNERS) {
      jobs.push(count(`${OPEN_CASES} AND ${ownerIs(owner)}`).then((n) => void obligations.set({ owner }, n)));
      for (const beyond of OVERDUE_BEYOND) {
        const q = `${OPEN_CASES} AND ${ownerIs(owner)} AND ${NextDeadline.name} < '${cutoff(beyond, at)}'`;
        jobs.push(count(q).then((n) => void overdue.set({ owner, beyond }, n)));
      }
    }
    for (const team of TEAMS) {
      jobs.push(
        count(`${OPEN_CASES} AND ${EscalationsWaiting.name} = '${team}'`).then((n) => void waiting.set({ team }, n)),
      );
      jobs.push(
        count(`${OPEN_CASES} AND ${EscalationsWaiting.name} = '${team}-late'`).then((n) => void late.set({ team }, n)),
      );
    }
    await Promise.all(jobs);
  }

  let last: { at: number; run: Promise<void> } | undefined;
  return {
    refresh() {
      const at = now();
      if (last && at - last.at < REFRESH_MS) return last.run;
      const run = collect().then(
        () => void up.set(1),
        // Stale gauges keep their last values; this one says so, and readiness says why.
        () => void up.set(0),
      );
      last = { at, run };
      return run;
    },
  };
}
