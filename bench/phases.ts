/**
 * `npm run bench:phases`: where the time from an HTTP submission to the client's first email goes
 * under open-loop load, for the case and the baseline. Each submission's own history gives the
 * server's timestamps (workflow started, first workflow task started and completed, the email's
 * activity started and completed); the sink gives the email's arrival. One dev server of its own,
 * as `npm run bench`; the ports and the clock are this machine's, so all times are comparable.
 *
 *   npm run bench:phases -- --rate 25 --seconds 20 --preopen 3000
 *
 * `--preopen N` first opens N cases of each target (direct starts, 16 at a time, each contacted),
 * so the load meets a server holding as many workflows as the full benchmark's rate search does;
 * `--pause S` waits S seconds after that; `--targets baseline,case` sets the order of the loads.
 * `--server-metrics` also reads the dev server's own metrics before and after each load, and
 * prints its storage operations during it (each operation's count and mean latency): the dev
 * server keeps workflows and their search attributes (visibility) in one SQLite database.
 * `--cluster` runs the loads against the native cluster (PostgreSQL, mutual TLS) instead.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { loadConfig } from '../src/config';
import { caseWorkflowId } from '../src/shared/ids';
import { encryptedDataConverter } from '../src/temporal/codec';
import { newCase, openLoop, openMany, percentile, pool, submitHttp } from './scenarios';
import { defaultWorkDir, Stack, TARGETS, type Child, type Target } from './stack';

const log = (line: string) => process.stderr.write(`[phases] ${line}\n`);
const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const PHASES = [
  'HTTP request → workflow started',
  'workflow started → first workflow task started',
  'first workflow task started → completed',
  'that task completed → email activity started',
  'email activity started → email at the sink',
  'HTTP request → email at the sink',
] as const;
type Phase = (typeof PHASES)[number];

interface Submitted {
  caseId: string;
  sentAt: number;
  contactAt: number;
}

function eventMs(e: HistoryEvent | undefined): number | undefined {
  const t = e?.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + Math.round((t.nanos ?? 0) / 1e6) : undefined;
}

/** The milliseconds of each phase for one submission, read from its history. */
function phasesOf(events: HistoryEvent[], s: Submitted): Partial<Record<Phase, number>> {
  const first = (type: temporal.api.enums.v1.EventType) => eventMs(events.find((e) => e.eventType === type));
  const started = first(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
  const taskStarted = first(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
  const taskCompleted = first(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  const activityStarted = first(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED);
  const out: Partial<Record<Phase, number>> = { 'HTTP request → email at the sink': s.contactAt - s.sentAt };
  if (started !== undefined) out['HTTP request → workflow started'] = started - s.sentAt;
  if (started !== undefined && taskStarted !== undefined) out['workflow started → first workflow task started'] = taskStarted - started;
  if (taskStarted !== undefined && taskCompleted !== undefined) out['first workflow task started → completed'] = taskCompleted - taskStarted;
  if (taskCompleted !== undefined && activityStarted !== undefined) out['that task completed → email activity started'] = activityStarted - taskCompleted;
  if (activityStarted !== undefined) out['email activity started → email at the sink'] = s.contactAt - activityStarted;
  return out;
}

/** Sum and count of each storage operation's latency histogram, from the server's Prometheus text. */
async function storageLatencies(url: string): Promise<Map<string, { seconds: number; count: number }>> {
  const text = await (await fetch(url)).text();
  const out = new Map<string, { seconds: number; count: number }>();
  const line = /^(visibility_persistence_latency|persistence_latency)_(sum|count)\{([^}]*)\} (\S+)$/;
  for (const l of text.split('\n')) {
    const m = line.exec(l);
    if (!m) continue;
    const op = /operation="([^"]+)"/.exec(m[3]!)?.[1] ?? '?';
    const key = `${m[1] === 'persistence_latency' ? '' : 'visibility: '}${op}`;
    const entry = out.get(key) ?? { seconds: 0, count: 0 };
    if (m[2] === 'sum') entry.seconds += Number(m[4]);
    else entry.count += Number(m[4]);
    out.set(key, entry);
  }
  return out;
}

/** One submission every 1/rate s over HTTP, whatever the answers, as the rate search sends them. */
function load(stack: Stack, web: Child, target: Target, rate: number, seconds: number): Promise<Submitted[]> {
  return openLoop(target, rate, seconds, async (c, sentAt) => {
    const caseId = await submitHttp(web, c);
    return { caseId, sentAt, contactAt: await stack.contacts.waitFor(c.client, 1, seconds * 1000 + 60_000) };
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '25' },
      seconds: { type: 'string', default: '20' },
      preopen: { type: 'string', default: '0' },
      pause: { type: 'string', default: '0' },
      targets: { type: 'string', default: TARGETS.join(',') },
      'server-metrics': { type: 'boolean', default: false },
      cluster: { type: 'boolean', default: false },
    },
  });
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const preopen = Number(values.preopen);
  const pause = Number(values.pause);
  const order = values.targets.split(',') as Target[];
  if (!(rate > 0) || !(seconds > 0) || !Number.isInteger(preopen) || preopen < 0 || !(pause >= 0))
    throw new Error('--rate and --seconds must be positive, --preopen a whole number, --pause not negative');
  if (order.length === 0 || order.some((t) => !TARGETS.includes(t))) throw new Error(`--targets takes ${TARGETS.join(' and/or ')}, comma-separated`);

  const workDir = defaultWorkDir();
  if (values.cluster && values['server-metrics']) throw new Error('--server-metrics reads the dev server; --cluster runs none');
  const stack = new Stack({ workDir, log, serverMetrics: values['server-metrics'], cluster: values.cluster });
  let connection: Connection | undefined;
  try {
    await stack.start();
    const config = loadConfig(stack.env('case'));
    connection = await stack.connect();
    const client = new Client({ connection, dataConverter: encryptedDataConverter(config.payloadKeys) });

    for (const target of preopen > 0 ? TARGETS : []) {
      const worker = await stack.startWorker(target);
      const t0 = Date.now();
      await openMany(stack, client, target, preopen, 16, 600_000);
      log(`${target}: ${preopen} cases opened in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      await worker.stop();
    }
    if (pause > 0) await sleep(pause * 1000);

    const rows: string[] = [];
    const storageRows: string[] = [];
    for (const target of order) {
      const web = await stack.startWeb(target);
      const worker = await stack.startWorker(target);
      // Warm up, one at a time: the first cases of a fresh worker pay for JIT and connections.
      for (let i = 0; i < 30; i++) {
        const c = newCase(target);
        await submitHttp(web, c);
        await stack.contacts.waitFor(c.client);
      }
      log(`${target}: ${rate}/s for ${seconds} s`);
      const before = stack.metricsUrl ? await storageLatencies(stack.metricsUrl) : undefined;
      const submitted = await load(stack, web, target, rate, seconds);
      if (before && stack.metricsUrl) {
        const during = [...(await storageLatencies(stack.metricsUrl))]
          .map(([op, after]) => ({ op, seconds: after.seconds - (before.get(op)?.seconds ?? 0), count: after.count - (before.get(op)?.count ?? 0) }))
          .filter((o) => o.count > 0)
          .sort((a, b) => b.seconds - a.seconds)
          .slice(0, 8);
        for (const o of during) storageRows.push(`| ${target} | ${o.op} | ${o.count} | ${((o.seconds * 1000) / o.count).toFixed(1)} | ${o.seconds.toFixed(1)} |`);
      }
      const times = new Map<Phase, number[]>(PHASES.map((p) => [p, []]));
      await pool(submitted, 8, async (s) => {
        const history = await client.workflow.getHandle(caseWorkflowId(s.caseId)).fetchHistory();
        for (const [phase, ms] of Object.entries(phasesOf(history.events ?? [], s))) times.get(phase as Phase)!.push(ms);
      });
      for (const [phase, ms] of times) {
        rows.push(`| ${target} | ${phase} | ${percentile(ms, 50)} | ${percentile(ms, 95)} | ${percentile(ms, 99)} | ${Math.max(...ms)} |`);
      }
      await worker.stop();
      await web.stop();
    }
    process.stdout.write(`\nshortnotice bench:phases, ${rate}/s for ${seconds} s, ${preopen} cases of each open before\n\n`);
    process.stdout.write('| target | phase | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|---|\n');
    process.stdout.write(`${rows.join('\n')}\n`);
    if (storageRows.length > 0) {
      process.stdout.write('\nThe dev server\'s storage during each load (the eight operations with the most time):\n\n');
      process.stdout.write('| target | operation | count | mean ms | total s |\n|---|---|---|---|---|\n');
      process.stdout.write(`${storageRows.join('\n')}\n`);
    }
  } finally {
    await connection?.close();
    await stack.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:phases failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
