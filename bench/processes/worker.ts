/**
 * A worker child process of the benchmark: the real case worker (as worker.ts composes it) or the
 * baseline worker (the same SDK options with the no-op workflow and activity). Separate processes,
 * so each one's CPU time and memory are its own and the load generator does not share its event
 * loop. Talks to the benchmark over IPC: "ready", the baseline's contacts, and stats on request.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { NativeConnection, Runtime, Worker, type WorkerOptions as SdkWorkerOptions } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { buildActivityDeps } from '../../activities/deps';
import { loadConfig } from '../../src/config';
import { createLogger, TemporalPinoLogger } from '../../src/log';
import { temporalConnectionOptions } from '../../src/temporal/client';
import { caseWorkerOptions } from '../../src/temporal/worker';
import { createBaselineActivities } from '../baseline/activities';
import { type ToWorker, type WorkerSpec, send } from './ipc';

const { CHANNEL: GC_CHANNEL } = require('./thread-gc.cjs') as { CHANNEL: string };

/** The workflow threads that said they are there (thread-gc.cjs), by thread id. */
const threads = new Set<number>();
/** The collection under way: the threads yet to answer it, and what to call when none is left. */
let collecting: { id: number; waiting: Set<number>; done: () => void } | undefined;
let gcRound = 0;
const gcChannel = new BroadcastChannel(GC_CHANNEL);
gcChannel.onmessage = (event) => {
  const m = (event as { data: unknown }).data as { type: string; threadId: number; id?: number };
  if (m.type === 'here') threads.add(m.threadId);
  const current = collecting;
  if (m.type === 'collected' && current && m.id === current.id) {
    current.waiting.delete(m.threadId);
    if (current.waiting.size === 0) current.done();
  }
};
gcChannel.unref();

/** A full GC in every workflow thread (each answers when done; 10 s at most), then in this one. */
async function collectEverywhere(): Promise<void> {
  const id = ++gcRound;
  await new Promise<void>((resolve) => {
    if (threads.size === 0) return resolve();
    collecting = { id, waiting: new Set(threads), done: resolve };
    gcChannel.postMessage({ type: 'gc', id });
    setTimeout(resolve, 10_000).unref();
  });
  collecting = undefined;
  global.gc?.();
  global.gc?.();
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.BENCH_WORKER ?? '{}') as WorkerSpec;
  const config = loadConfig(process.env);
  const log = createLogger({ level: config.logLevel, base: { service: 'worker' } });
  Runtime.install({ logger: new TemporalPinoLogger(log.child({ component: 'temporal' })) });
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const activities = createActivities(buildActivityDeps(config, log.child({ component: 'activities' })));
  const options: SdkWorkerOptions = {
    ...caseWorkerOptions({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      activities,
      payloadKeys: config.payloadKeys,
      workflowBundle: { codePath: spec.bundlePath },
    }),
    ...spec.tuning,
  };
  if (spec.kind === 'baseline')
    options.activities = createBaselineActivities((to, at) => send({ type: 'contact', to, at }));
  const worker = await Worker.create(options);

  // Asked to stop, or the benchmark went away without asking (interrupted, killed): never linger.
  const stop = () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  process.on('disconnect', stop);
  process.on('message', (m: ToWorker) => {
    if (m.type === 'stop') stop();
    if (m.type === 'stats') {
      void (m.gc ? collectEverywhere() : Promise.resolve()).then(() => {
        const cpu = process.cpuUsage();
        const mem = process.memoryUsage();
        send({ type: 'stats', id: m.id, rss: mem.rss, heapUsed: mem.heapUsed, cpuMs: (cpu.user + cpu.system) / 1000 });
      });
    }
  });
  const running = worker.run();
  send({ type: 'ready' });
  try {
    await running;
  } finally {
    await connection.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
