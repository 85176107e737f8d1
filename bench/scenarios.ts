/**
 * The measurements. Each drives the case and the baseline the same way, through the stable
 * seams only: cases start through CaseService.submit or the HTTP API, act through the updates
 * `chooseSlot` and `confirmRecord` by name, and read the `view` query for `stage` alone. A first
 * contact is the client's first message at the sink (baseline: its no-op activity's report).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { CaseService } from '../src/cases';
import type { Submission } from '../src/shared/api';
import { caseWorkflowId } from '../src/shared/ids';
import { resolvePolicy } from '../src/shared/policy-schema';
import { API_TOKEN, type Child, type Stack, type Target } from './stack';

const DAY = 86_400_000;

/** One synthetic session per case; the addresses say which case a message belongs to. */
export interface BenchCase {
  n: number;
  sessionId: string;
  client: string;
  therapist: string;
  slot: string;
  submission: Submission;
}

let counter = 0;

export function newCase(target: Target): BenchCase {
  const n = ++counter;
  const now = Date.now();
  const slot = new Date(Math.ceil((now + 3 * DAY) / 60_000) * 60_000).toISOString();
  const c = {
    n,
    sessionId: `S-${target}-${n}`,
    client: `c-${target}-${n}@example.org`,
    therapist: `t-${target}-${n}@example.org`,
    slot,
  };
  return {
    ...c,
    submission: {
      therapist: { id: `T-${target}-${n}`, name: 'Bench Therapist', email: c.therapist },
      reason: 'illness',
      sessions: [
        {
          id: c.sessionId,
          startsAt: new Date(now + DAY).toISOString(),
          client: { ref: `C-${n}`, firstName: 'Bench', preferredContact: 'email', email: c.client },
          rebook: { slots: [slot, new Date(Date.parse(slot) + 3_600_000).toISOString()] },
        },
      ],
    },
  };
}

/** Starts cases the way the web app does, with the benchmark's own client and a chosen policy. */
export function caseService(
  client: Client,
  stack: Stack,
  target: Target,
  policyOverrides: Record<string, number> = {},
): CaseService {
  return new CaseService({
    client,
    taskQueue: stack.taskQueue(target),
    policy: resolvePolicy(policyOverrides),
    recordsMode: 'attestation',
    caseIdKey: Buffer.alloc(32, 7),
  });
}

/** Submits one case over the API, as an integration would; answers the case's id. */
export async function submitHttp(web: Child, c: BenchCase): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${web.port}/api/cancellations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
    body: JSON.stringify(c.submission),
  });
  if (res.status !== 201) {
    await res.arrayBuffer();
    throw new Error(`POST /api/cancellations answered ${res.status}`);
  }
  const body = (await res.json()) as { cancellations: Array<{ id: string }> };
  return body.cancellations[0]!.id;
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Throughput {
  perSecond: number;
  /** Worker CPU time (user + system, all threads) per case, from submission to first contact. */
  workerCpuMs: number;
  /** Web-app CPU time per case (HTTP only). */
  webCpuMs?: number;
  /** Dev server CPU time per case (Linux only). */
  serverCpuMs?: number;
}

/**
 * First contacts per second: `n` cases submitted with `concurrency` in flight, timed from the
 * first submission to the last first contact.
 */
export async function firstContactThroughput(
  stack: Stack,
  worker: Child,
  submit: (c: BenchCase) => Promise<void>,
  target: Target,
  n: number,
  concurrency: number,
  web?: Child,
): Promise<Throughput> {
  const cases = Array.from({ length: n }, () => newCase(target));
  const [w0, s0] = await Promise.all([worker.stats(), web?.stats()]);
  const server0 = stack.serverCpuMs();
  const started = Date.now();
  await pool(cases, concurrency, submit);
  const contacted = await Promise.all(cases.map((c) => stack.contacts.waitFor(c.client)));
  const seconds = (Math.max(...contacted) - started) / 1000;
  const [w1, s1] = await Promise.all([worker.stats(), web?.stats()]);
  const server1 = stack.serverCpuMs();
  return {
    perSecond: n / seconds,
    workerCpuMs: (w1.cpuMs - w0.cpuMs) / n,
    ...(s0 && s1 ? { webCpuMs: (s1.cpuMs - s0.cpuMs) / n } : {}),
    ...(server0 !== undefined && server1 !== undefined ? { serverCpuMs: (server1 - server0) / n } : {}),
  };
}

/** Waits until the workflow has no activity and no workflow task pending, so each step's events are all in. */
async function settle(handle: WorkflowHandle): Promise<void> {
  let quiet = 0;
  for (let i = 0; i < 400 && quiet < 2; i++) {
    const { raw } = await handle.describe();
    quiet = raw.pendingActivities?.length || raw.pendingWorkflowTask ? 0 : quiet + 1;
    await sleep(50);
  }
}

async function stageOf(handle: WorkflowHandle): Promise<string> {
  return ((await handle.query<{ stage: string }>('view')) ?? { stage: '' }).stage;
}

export interface HappyPath {
  events: number;
  /** Event counts of every run (the bench runs the path more than once and keeps the longest). */
  counts?: number[];
  /** Event types in order, for accounting for each one. */
  types: string[];
}

/**
 * The happy path's history: the client is offered slots and picks one (the client and the
 * therapist get a confirmation), then the therapist confirms the three records: 4 updates and 3
 * activities. Every step waits for the workflow to settle, so the count does not depend on timing.
 */
export async function happyPath(
  stack: Stack,
  client: Client,
  service: CaseService,
  target: Target,
): Promise<HappyPath> {
  const c = newCase(target);
  const [{ caseId }] = (await service.submit(c.submission)) as [{ caseId: string }];
  const handle = client.workflow.getHandle(caseWorkflowId(caseId));
  await stack.contacts.waitFor(c.client);
  for (let i = 0; i < 200 && (await stageOf(handle)) !== 'awaiting-choice'; i++) await sleep(50);
  await settle(handle);
  await handle.executeUpdate('chooseSlot', { args: [{ slot: c.slot }] });
  await Promise.all([stack.contacts.waitFor(c.client, 2), stack.contacts.waitFor(c.therapist)]);
  await settle(handle);
  for (const record of ['attendance', 'clinicalNote', 'nextSession']) {
    await handle.executeUpdate('confirmRecord', { args: [{ record, by: c.submission.therapist.id }] });
    await settle(handle);
  }
  await handle.result();
  const history = await handle.fetchHistory();
  const names = temporal.api.enums.v1.EventType;
  const types = (history.events ?? []).map((e) => (names[e.eventType ?? 0] ?? 'UNKNOWN').replace(/^EVENT_TYPE_/, ''));
  return { events: types.length, types };
}

export interface OpenCases {
  open: number;
  /** Worker resident memory per open, cached case (settled RSS with the cases minus without: settledRss). */
  memoryPerCaseMb: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  /** Deadline to escalation (the therapist's follow-up duty) for probes still in the worker's cache. */
  cachedLatenessMs: number[];
  /** The same for probes the worker's cache had already dropped, so each one's history is replayed. */
  evictedLatenessMs: number[];
}

/** The evicting worker's cache: small, so a few dozen newer cases push the probes out. */
export const EVICTING_CACHE = 20;

/**
 * Lets the choice deadline of `probes` short-deadline cases pass and measures, per probe, from
 * its deadline to the therapist's follow-up email. A probe's deadline is taken as its first
 * contact plus the response window: the workflow starts the window a little later, when it hears
 * the contact succeeded, so this lateness is an upper bound, for the case and baseline alike.
 * `meanwhile` runs after the probes' first contacts and must end before their deadlines.
 */
async function deadlines(
  stack: Stack,
  client: Client,
  target: Target,
  probes: number,
  concurrency: number,
  windowMs: number,
  meanwhile?: () => Promise<void>,
): Promise<number[]> {
  const service = caseService(client, stack, target, { clientResponseWindowMs: windowMs });
  const cases = Array.from({ length: probes }, () => newCase(target));
  await pool(cases, concurrency, async (c) => void (await service.submit(c.submission)));
  const contacted = await Promise.all(cases.map((c) => stack.contacts.waitFor(c.client)));
  await meanwhile?.();
  if (Date.now() >= Math.min(...contacted) + windowMs)
    throw new Error(`the first probe's deadline passed before the set-up was done: raise the window (${windowMs} ms)`);
  const escalated = await Promise.all(cases.map((c) => stack.contacts.waitFor(c.therapist, 1, windowMs + 120_000)));
  return escalated.map((at, i) => at - (contacted[i]! + windowMs));
}

/** Opens `n` cases by direct start, `concurrency` at a time, and waits until each client is contacted. */
export async function openMany(
  stack: Stack,
  client: Client,
  target: Target,
  n: number,
  concurrency: number,
  contactTimeoutMs?: number,
): Promise<void> {
  const service = caseService(client, stack, target);
  const cases = Array.from({ length: n }, () => newCase(target));
  await pool(cases, concurrency, async (c) => void (await service.submit(c.submission)));
  await Promise.all(cases.map((c) => stack.contacts.waitFor(c.client, 1, contactTimeoutMs)));
}

/** How long the worker is left idle while its memory is read (see settledRss). */
const SETTLE_MS = 40_000;

/**
 * The worker's resident memory once it has settled: the lowest of readings every 2 s over
 * SETTLE_MS of idleness, each after a full GC of the main thread and of every workflow thread
 * (bench/processes/thread-gc.cjs). The workflows run in worker threads, each with a V8 heap of its
 * own that the main thread's GC does not reach: read 1 s after the load with only the main thread
 * collected, RSS still held the garbage of opening the cases, which V8 released 15-35 s later, or
 * in one round of a full run not within 40 s (0.49 against 0.36 MB a case in the other round).
 * With the threads collected too, RSS falls within 8 s and then holds to a tenth of a MB. What
 * stays is what the worker holds for its cases; it never holds less, so the lowest reading is
 * still an upper bound on it.
 */
async function settledRss(worker: Child): Promise<number> {
  let lowest = Infinity;
  for (const until = Date.now() + SETTLE_MS; Date.now() < until; await sleep(2_000))
    lowest = Math.min(lowest, (await worker.stats(true)).rss);
  return lowest;
}

/**
 * Opens `open` cases on a fresh worker and measures its memory; then, with all of them open and
 * cached, measures deadline lateness for probes in the cache. Then, on a worker whose cache holds
 * EVICTING_CACHE cases, opens the probes, pushes them out of the cache with twice as many newer
 * cases, and measures again: the production path of a case evicted by newer work.
 */
export async function openCases(
  stack: Stack,
  client: Client,
  target: Target,
  startWorker: (tuning?: { maxCachedWorkflows: number }) => Promise<Child>,
  sizes: { open: number; probes: number; concurrency: number },
): Promise<OpenCases> {
  const worker = await startWorker();
  const before = await settledRss(worker);
  await openMany(stack, client, target, sizes.open, sizes.concurrency);
  const after = await settledRss(worker);
  const cachedLatenessMs = await deadlines(stack, client, target, sizes.probes, sizes.concurrency, 5_000);

  await startWorker({ maxCachedWorkflows: EVICTING_CACHE });
  const evictedLatenessMs = await deadlines(stack, client, target, sizes.probes, sizes.concurrency, 15_000, () =>
    openMany(stack, client, target, 2 * EVICTING_CACHE, sizes.concurrency),
  );
  return {
    open: sizes.open,
    memoryPerCaseMb: (after - before) / sizes.open / 2 ** 20,
    rssBeforeMb: before / 2 ** 20,
    rssAfterMb: after / 2 ** 20,
    cachedLatenessMs,
    evictedLatenessMs,
  };
}

export interface RateRun {
  rate: number;
  seconds: number;
  sent: number;
  contacted: number;
  latencyMs: number[];
  sustained: boolean;
}

/** The rule for "keeps up": every submission accepted and contacted, and p95 submit → contact within 1 s. */
export const SUSTAINED_P95_MS = 1_000;

/**
 * Open-loop load: starts `each` for a new case every 1/rate seconds for `seconds`, whatever the
 * earlier ones answer, and gathers what each gives. `sentAt` is when its case is sent.
 */
export async function openLoop<T>(
  target: Target,
  rate: number,
  seconds: number,
  each: (c: BenchCase, sentAt: number) => Promise<T>,
): Promise<T[]> {
  const total = Math.max(1, Math.round(rate * seconds));
  const started = Date.now();
  const results: Array<Promise<T>> = [];
  for (let k = 0; k < total; k++) {
    const wait = started + (k * 1000) / rate - Date.now();
    if (wait > 0) await sleep(wait);
    const c = newCase(target);
    results.push(each(c, Date.now()));
  }
  return Promise.all(results);
}

/**
 * Open-loop load over HTTP: one submission every 1/rate seconds for `seconds`, whatever the
 * answers; latency is from sending the request to the client's first contact.
 */
export async function atRate(
  stack: Stack,
  web: Child,
  target: Target,
  rate: number,
  seconds: number,
): Promise<RateRun> {
  const latencies = await openLoop(target, rate, seconds, (c, sentAt) =>
    submitHttp(web, c)
      .then(() => stack.contacts.waitFor(c.client, 1, seconds * 1000 + 20_000))
      .then(
        (at) => at - sentAt,
        () => undefined,
      ),
  );
  const latencyMs = latencies.filter((l): l is number => l !== undefined);
  return {
    rate,
    seconds,
    sent: latencies.length,
    contacted: latencyMs.length,
    latencyMs,
    sustained: latencyMs.length === latencies.length && percentile(latencyMs, 95) <= SUSTAINED_P95_MS,
  };
}
