/**
 * `npm start`: the whole app on one machine. Runs a Temporal dev server that keeps its state in
 * var/temporal/dev.db (so cases survive a restart), registers the search attributes, then runs
 * the worker and the web app as child processes with this process's environment.
 *
 * Ctrl-C or SIGTERM stops the children first (SIGTERM, then SIGKILL after a grace period), then
 * the server, and exits 0. If any child dies on its own, the rest are stopped and the exit is 1.
 * Children run in their own process groups so a terminal Ctrl-C reaches only this launcher,
 * which then stops them in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { Connection } from '@temporalio/client';
import { isLoopbackHost, loadConfigOrExit, type Config } from '../config';
import { SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import { ensureSearchAttributes } from '../temporal/setup-search-attributes';
import { formatDuration, resolveTemporalCli, waitForGrpc } from './binaries';

export interface ChildCommand {
  name: string;
  command: string;
  args: string[];
}

export interface StartOptions {
  /** Processes to run once Temporal answers; the worker and the web app by default. */
  children?: ChildCommand[];
  /** Project root: children run there and the database lives under it. */
  root?: string;
  config?: Config;
  /** How long a child gets between SIGTERM and SIGKILL. */
  stopTimeoutMs?: number;
  /** How long to wait for the Temporal frontend, and then for the web app, to answer. */
  readyTimeoutMs?: number;
}

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1']);
const SEARCH_ATTRIBUTE_FLAG_TYPE: Record<string, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export function defaultChildren(): ChildCommand[] {
  const tsx = require.resolve('tsx/cli');
  return [
    { name: 'worker', command: process.execPath, args: [tsx, 'worker.ts'] },
    { name: 'web', command: process.execPath, args: [tsx, path.join('src', 'web', 'main.ts')] },
  ];
}

/**
 * Dynamic config of every dev server this project starts (`npm start`, the tests, the benchmark),
 * as deploy/temporal/dynamicconfig.yaml sets it for the cluster:
 * - no outbound version check (these machines reach package registries only);
 * - eager activity execution: the server hands a workflow's new activity back in its answer to the
 *   worker's completed workflow task, when that worker polls the activity's task queue and has a
 *   free slot, instead of queueing it for a poll. The case's first contact is such an activity.
 *   Measured on this machine kind (`npm run bench:eager`; docs/performance.md, "Eager
 *   activities"): a one-activity workflow reaches its activity about 30 ms sooner at the median,
 *   for no more server CPU.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: readonly string[] = ['frontend.enableServerVersionCheck=false', 'system.enableActivityEagerExecution=true'];

/**
 * The `temporal server start-dev` arguments for this project. `codecEndpoint` is the web app's
 * codec server: the Web UI decrypts case data through it (for a signed-in clinical lead).
 */
export function devServerArgs(o: { dbFile: string; port: number; uiPort: number; namespace: string; codecEndpoint?: string }): string[] {
  const args = ['server', 'start-dev', '--db-filename', o.dbFile, '--ip', '127.0.0.1', '--port', String(o.port), '--ui-port', String(o.uiPort)];
  if (o.namespace !== 'default') args.push('--namespace', o.namespace);
  if (o.codecEndpoint) args.push('--ui-codec-endpoint', o.codecEndpoint);
  for (const k of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${k.name}=${SEARCH_ATTRIBUTE_FLAG_TYPE[k.type]}`);
  // WAL with synchronous=NORMAL survives a crash of the server; tests use OFF on throwaway data.
  args.push(
    ...DEV_SERVER_DYNAMIC_CONFIG.flatMap((v) => ['--dynamic-config-value', v]),
    '--sqlite-pragma',
    'journal_mode=WAL',
    '--sqlite-pragma',
    'synchronous=NORMAL',
    '--log-level',
    'warn',
  );
  return args;
}

function say(line: string): void {
  process.stdout.write(`[start] ${line}\n`);
}

/** True when something already listens on host:port (binding it fails with EADDRINUSE). */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE' || e.code === 'EACCES'));
    srv.listen(port, host, () => srv.close(() => resolve(false)));
  });
}

function portOf(url: string, fallback: number): number {
  const u = new URL(url);
  return u.port ? Number(u.port) : fallback;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves on any HTTP answer from `url`, false after `timeoutMs`. */
async function waitForHttp(url: string, timeoutMs: number, stop: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stop()) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
      return true;
    } catch {
      await sleep(250);
    }
  }
  return false;
}

interface Running {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
  done: boolean;
}

/** The dev server's banner repeats what the launcher prints itself. */
const TEMPORAL_BANNER = /^(CLI \S+ \(Server|Server: |UI: |Metrics: |\s*$)/;

/** Prefixes each line of a child's output with its name; `muted()` drops lines while true. */
function pipeLines(name: string, child: ChildProcess, width: number, muted: () => boolean): void {
  const prefix = `${name.padEnd(width)} | `;
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    if (!stream) continue;
    readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      if (!muted() && !(name === 'temporal' && TEMPORAL_BANNER.test(line))) out.write(`${prefix}${line}\n`);
    });
  }
}

/**
 * Whether the local Web UI may use the codec without credentials (CODEC_OPEN_TO_LOCAL_UI): the
 * dev server's UI gets the codec endpoint from `--ui-codec-endpoint`, but CLI 1.5.1 has no flag
 * for the UI's "include credentials" setting, so a lead's cookie would never reach the codec.
 * Only where config.ts allows it: the development sign-in, with the app and the UI on loopback.
 */
export function codecOpenToLocalUi(config: Config): boolean {
  const loopback = (u: string) => isLoopbackHost(new URL(u).hostname);
  const local = loopback(config.publicBaseUrl) && loopback(config.temporal.uiUrl);
  return config.env !== 'production' && config.auth.mode === 'dev' && local;
}

/**
 * The children's environment: this process's, with the web app on loopback unless BIND_ADDRESS
 * says otherwise (`npm start` is for one machine; nobody else on the network should reach it),
 * and the codec open to the local Web UI where that is allowed and not set otherwise.
 */
export function childEnvironment(env: NodeJS.ProcessEnv, config?: Config): NodeJS.ProcessEnv {
  const open = config !== undefined && codecOpenToLocalUi(config) && !env.CODEC_OPEN_TO_LOCAL_UI?.trim();
  const codec = open ? { CODEC_OPEN_TO_LOCAL_UI: 'true' } : {};
  return { ...env, BIND_ADDRESS: env.BIND_ADDRESS?.trim() || '127.0.0.1', ...codec };
}

function launch(cmd: ChildCommand, cwd: string, width: number, muted: () => boolean, config?: Config): Running {
  const child = spawn(cmd.command, cmd.args, {
    cwd,
    env: childEnvironment(process.env, config),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const running: Running = { name: cmd.name, child, done: false, exited: Promise.resolve() };
  running.exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.done = true;
      resolve();
    });
    child.once('error', (e) => {
      say(`could not start ${cmd.name} (${cmd.command}): ${e.message}`);
      running.done = true;
      resolve();
    });
  });
  pipeLines(cmd.name, child, width, muted);
  return running;
}

function signalGroup(r: Running, signal: NodeJS.Signals): void {
  if (r.done || r.child.pid === undefined) return;
  try {
    process.kill(-r.child.pid, signal); // the whole group: tsx runs the script in a grandchild
  } catch {
    try {
      r.child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

async function stop(r: Running, timeoutMs: number): Promise<void> {
  if (r.done) return;
  signalGroup(r, 'SIGTERM');
  const timer = setTimeout(() => {
    say(`${r.name} did not stop within ${formatDuration(timeoutMs)}; killing it`);
    signalGroup(r, 'SIGKILL');
  }, timeoutMs);
  await r.exited;
  clearTimeout(timer);
  // Leftovers in the group (a grandchild that ignored SIGTERM) go too.
  signalGroup({ ...r, done: false }, 'SIGKILL');
}

/** Runs everything until a signal or a crash; resolves with the exit code. */
export async function startDev(options: StartOptions = {}): Promise<number> {
  const config = options.config ?? loadConfigOrExit();
  const root = options.root ?? PROJECT_ROOT;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const children = options.children ?? defaultChildren();

  const [host = '', portText = ''] = config.temporal.address.split(':');
  if (!LOCAL_HOSTS.has(host)) {
    say(`TEMPORAL_ADDRESS=${config.temporal.address} is not local. npm start runs its own Temporal dev server on localhost;`);
    say('to use an existing cluster run `npm run setup-search-attributes`, `npm run worker` and `npm run web` instead.');
    return 1;
  }
  const temporalPort = Number(portText);
  const uiUrl = new URL(config.temporal.uiUrl);
  const uiPort = LOCAL_HOSTS.has(uiUrl.hostname) ? portOf(config.temporal.uiUrl, 80) : 8233;

  const ports: [number, string][] = [
    [temporalPort, 'Temporal gRPC, from TEMPORAL_ADDRESS'],
    [uiPort, 'Temporal Web UI, from TEMPORAL_UI_URL'],
  ];
  if (config.port !== 0) ports.push([config.port, 'web app, from PORT']);
  if (config.worker.healthPort !== 0)
    ports.push([config.worker.healthPort, "worker's health and metrics, from WORKER_HEALTH_PORT"]);
  if (config.worker.sdkMetricsPort !== 0)
    ports.push([config.worker.sdkMetricsPort, "worker's Temporal SDK metrics, from WORKER_SDK_METRICS_PORT"]);
  const busy: string[] = [];
  for (const [port, what] of ports) if (await portInUse(port)) busy.push(`port ${port} (${what})`);
  if (busy.length > 0) {
    say(`cannot start: ${busy.join(', ')} ${busy.length > 1 ? 'are' : 'is'} already in use.`);
    say('Another `npm start` or Temporal server may still be running: stop it, or choose other ports with the variables named above.');
    return 1;
  }

  const cli = await resolveTemporalCli({ log: say });
  if (cli.executable.type !== 'existing-path') {
    say('No Temporal CLI: install it (https://docs.temporal.io/cli) and put `temporal` on PATH or set TEMPORAL_CLI_PATH,');
    say('or install Go >= 1.25 so `npm run provision` can build it.');
    return 1;
  }

  const dbFile = path.join(root, 'var', 'temporal', 'dev.db');
  fs.mkdirSync(path.dirname(dbFile), { recursive: true });
  const fresh = !fs.existsSync(dbFile);
  const width = Math.max('temporal'.length, ...children.map((c) => c.name.length));
  let stopping = false;
  // The server logs connection warnings while it shuts down; they would only alarm.
  const serverMuted = () => stopping;
  const running: Running[] = [];

  say(`starting Temporal dev server (${fresh ? 'new database' : 'existing database'} ${path.relative(root, dbFile)})…`);
  const serverArgs = devServerArgs({ dbFile, port: temporalPort, uiPort, namespace: config.temporal.namespace, codecEndpoint: `${config.publicBaseUrl}/codec` });
  const server = launch({ name: 'temporal', command: cli.executable.path, args: serverArgs }, root, width, serverMuted);

  let resolveExit!: (code: number) => void;
  const exitCode = new Promise<number>((r) => (resolveExit = r));
  let firstSignalAt = 0;

  const shutdown = async (code: number, reason: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say(reason);
    await Promise.all(running.map((r) => stop(r, stopTimeoutMs)));
    await stop(server, Math.max(stopTimeoutMs, 15_000));
    say(code === 0 ? 'stopped.' : 'stopped after a failure.');
    resolveExit(code);
  };

  const onSignal = (signal: NodeJS.Signals) => {
    // npm and tsx may forward the same Ctrl-C once more; only a later one means "force".
    if (stopping && Date.now() - firstSignalAt > 1000) {
      say('forced stop');
      for (const r of [...running, server]) signalGroup(r, 'SIGKILL');
      resolveExit(1);
      return;
    }
    firstSignalAt = firstSignalAt || Date.now();
    void shutdown(0, `${signal} received: stopping ${[...children.map((c) => c.name), 'temporal'].join(', ')}…`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Last resort if this process exits some other way: no child outlives it.
  const killAll = () => [...running, server].forEach((r) => signalGroup(r, 'SIGKILL'));
  process.on('exit', killAll);

  const watch = (r: Running) =>
    void r.exited.then(() => {
      if (!stopping) void shutdown(1, `${r.name} exited unexpectedly (${describeExit(r.child)}); stopping the rest.`);
    });
  watch(server);

  const address = `127.0.0.1:${temporalPort}`;
  const started = Date.now();
  const up = await waitForGrpc(address, readyTimeoutMs, () => server.done || stopping);
  if (!up) {
    if (!stopping) {
      void shutdown(1, server.done ? 'the Temporal dev server exited during start-up (see its output above).' : `the Temporal dev server did not answer on ${address} within ${formatDuration(readyTimeoutMs)}.`);
    }
    return finish(exitCode, killAll, onSignal);
  }
  say(`Temporal is up on ${address} (${formatDuration(Date.now() - started)})`);

  try {
    const connection = await Connection.connect({ address });
    try {
      const sa = await ensureSearchAttributes(connection, config.temporal.namespace);
      if (sa.added.length > 0) say(`registered search attributes: ${sa.added.join(', ')}`);
    } finally {
      await connection.close();
    }
  } catch (e) {
    void shutdown(1, `could not check the search attributes: ${e instanceof Error ? e.message : String(e)}`);
    return finish(exitCode, killAll, onSignal);
  }

  if (!stopping) {
    for (const c of children) {
      const r = launch(c, root, width, () => false, config);
      running.push(r);
      watch(r);
    }
    const base = `http://localhost:${config.port}`;
    const webUp = config.port !== 0 && (await waitForHttp(`http://127.0.0.1:${config.port}/`, readyTimeoutMs, () => stopping));
    if (!stopping) {
      if (!webUp) say(`the web app has not answered on port ${config.port} yet; the links below work once it does.`);
      say('ready:');
      say(`  cancellation form    ${base}/cancellations/new`);
      if (!config.mail.smtpUrl) say(`  development mailbox  ${base}/dev/mailbox`);
      const decodes = codecOpenToLocalUi(config) ? ' (reads case data through the web app)' : '';
      say(`  Temporal Web UI      http://localhost:${uiPort}${decodes}`);
      say(`  health and metrics   ${base}/readyz, ${base}/metrics (worker: ${workerHealth(config)})`);
      say('press Ctrl-C to stop.');
    }
  }
  return finish(exitCode, killAll, onSignal);
}

function workerHealth(config: Config): string {
  const { healthPort, sdkMetricsPort } = config.worker;
  const at = (port: number, what: string) => (port === 0 ? `${what} off` : `http://localhost:${port}/${what}`);
  return `${at(healthPort, 'readyz')}, ${at(healthPort, 'metrics')}, SDK ${at(sdkMetricsPort, 'metrics')}`;
}

async function finish(exitCode: Promise<number>, killAll: () => void, onSignal: (s: NodeJS.Signals) => void): Promise<number> {
  const code = await exitCode;
  process.off('exit', killAll);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return code;
}

function describeExit(child: ChildProcess): string {
  if (child.signalCode) return `signal ${child.signalCode}`;
  return `exit code ${String(child.exitCode)}`;
}

if (require.main === module) {
  startDev().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`[start] failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
