/**
 * Everything the benchmark runs against, started and stopped by it: a Temporal dev server on
 * ports of its own (or, with `cluster`, the project's native cluster: PostgreSQL and the Temporal
 * server with mutual TLS, as `npm run cluster` runs them), the measuring SMTP sink, the workflow bundles (built once), and the worker
 * and web-app child processes for the case and for the baseline.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { freePort, resolveTemporalCli, waitForGrpc } from '../src/dev/binaries';
import { NativeCluster } from '../src/dev/cluster';
import { provisionCluster } from '../src/dev/cluster-binaries';
import { SEARCH_ATTRIBUTES } from '../src/shared/search-attributes';
import { FAILURE_CONVERTER_PATH } from '../src/temporal/codec';
import { WORKFLOWS_PATH } from '../src/temporal/worker';
import { DEV_SERVER_EXTRA_ARGS } from '../test/helpers/temporal';
import { ContactLog } from './contacts';
import type { FromChild, ToWorker, WorkerSpec } from './processes/ipc';
import { type MeasuringSink, startMeasuringSink } from './sink';

export type Target = 'case' | 'baseline';
export const TARGETS: readonly Target[] = ['case', 'baseline'];

/** The CLI's names for the SDK's search-attribute types. */
const CLI_TYPE: Record<string, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export interface Stats {
  rss: number;
  heapUsed: number;
  cpuMs: number;
}

/** A worker or web-app child process. */
export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, (s: Stats) => void>();
  readonly exited: Promise<number | null>;
  port?: number;

  constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
    onMessage: (m: FromChild) => void,
  ) {
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.on('message', (m: FromChild) => {
      if (m.type === 'stats') {
        this.pending.get(m.id)?.({ rss: m.rss, heapUsed: m.heapUsed, cpuMs: m.cpuMs });
        this.pending.delete(m.id);
      } else onMessage(m);
    });
  }

  /** Memory (after a forced GC when `gc`), and CPU time used since the process started. */
  stats(gc = false): Promise<Stats> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, resolve);
      this.proc.send({ type: 'stats', id, gc } satisfies ToWorker);
      void this.exited.then(() => reject(new Error(`${this.name} exited`)));
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.send({ type: 'stop' } satisfies ToWorker);
    const killer = setTimeout(() => this.proc.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(killer);
  }
}

export interface StackOptions {
  /** Where child logs and bundles go. */
  workDir: string;
  log: (line: string) => void;
  /** Dynamic config to set on the dev server beside (or over) the project's, as KEY=JSON_VALUE. */
  serverConfig?: readonly string[];
  /** Serve the dev server's own Prometheus metrics (`metricsUrl`). */
  serverMetrics?: boolean;
  /**
   * Run against the native cluster (PostgreSQL, Temporal with mutual TLS) instead of a dev
   * server; `serverConfig` and `serverMetrics` are the dev server's and do not apply.
   */
  cluster?: boolean;
}

export class Stack {
  readonly contacts = new ContactLog();
  sink!: MeasuringSink;
  address!: string;
  /** The dev server's Prometheus metrics, with `serverMetrics`. */
  metricsUrl?: string;
  private server?: ChildProcess;
  private cluster?: NativeCluster;
  private readonly bundles = new Map<Target, string>();
  private readonly children = new Set<Child>();

  constructor(private readonly opts: StackOptions) {}

  taskQueue(target: Target): string {
    return `bench-${target}`;
  }

  /** The environment every child reads its config from (src/config.ts), as in production. */
  env(target: Target, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'development',
      TEMPORAL_ADDRESS: this.address,
      ...this.tlsEnv(),
      TEMPORAL_TASK_QUEUE: this.taskQueue(target),
      SMTP_URL: this.sink.url,
      // The product's default (5) unless set for the run: docs/performance.md, "SMTP connections".
      ...(process.env.SMTP_MAX_CONNECTIONS ? { SMTP_MAX_CONNECTIONS: process.env.SMTP_MAX_CONNECTIONS } : {}),
      PUBLIC_BASE_URL: 'http://127.0.0.1:3000',
      MPB_MODE: 'attestation',
      API_TOKENS: `bench:${API_TOKEN}:submit+read`,
      LOG_LEVEL: 'info',
      ...extra,
    };
  }

  /** With `cluster`, the app's mutual TLS settings for the cluster's Temporal (src/config.ts). */
  private tlsEnv(): Record<string, string> {
    const c = this.cluster?.certificates;
    if (!c) return {};
    return { TEMPORAL_TLS_CA: c.ca, TEMPORAL_TLS_CERT: c.clientCert, TEMPORAL_TLS_KEY: c.clientKey, TEMPORAL_TLS_SERVER_NAME: c.serverName };
  }

  /** A client connection to the Temporal the stack runs, as the app makes it. */
  connect(): Promise<Connection> {
    return this.cluster ? this.cluster.connect() : Connection.connect({ address: this.address });
  }

  /** `bundle: false` for measurements that run no worker. */
  async start(opts: { bundle?: boolean } = {}): Promise<void> {
    fs.mkdirSync(this.opts.workDir, { recursive: true });
    this.sink = await startMeasuringSink(this.contacts);
    if (this.opts.cluster) await this.startCluster();
    else await this.startDevServer();
    this.opts.log(`Temporal on ${this.address}${this.cluster ? ' (native cluster, mutual TLS)' : ''}; SMTP sink on ${this.sink.url}`);
    if (opts.bundle !== false) await this.bundle();
  }

  private async startCluster(): Promise<void> {
    const binaries = await provisionCluster({ log: this.opts.log });
    this.cluster = await NativeCluster.create({
      root: path.resolve(__dirname, '..'),
      dir: path.join(this.opts.workDir, 'cluster'),
      binaries,
      fresh: true,
      log: (line) => this.opts.log(`cluster: ${line}`),
    });
    try {
      await this.cluster.start({ temporalOnly: true });
    } catch (e) {
      await this.cluster.stop();
      throw e;
    }
    this.address = this.cluster.temporalAddress;
  }

  private async startDevServer(): Promise<void> {
    const cli = await resolveTemporalCli({ log: this.opts.log });
    if (!cli.path) throw new Error('the benchmark needs the Temporal CLI (npm run provision builds it)');
    const port = await freePort();
    this.address = `127.0.0.1:${port}`;
    const args = [
      'server',
      'start-dev',
      '--headless',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--log-level',
      'warn',
    ];
    for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=${CLI_TYPE[key.type]}`);
    args.push(...DEV_SERVER_EXTRA_ARGS);
    if (this.opts.serverMetrics) {
      const metricsPort = await freePort();
      args.push('--metrics-port', String(metricsPort));
      this.metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    }
    // Later values of a key win: an experiment can turn one of the project's settings off.
    for (const value of this.opts.serverConfig ?? []) args.push('--dynamic-config-value', value);
    const out = fs.openSync(path.join(this.opts.workDir, 'temporal.log'), 'a');
    this.server = spawn(cli.path, args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    let exited = false;
    this.server.once('exit', () => (exited = true));
    if (!(await waitForGrpc(this.address, 60_000, () => exited)))
      throw new Error(`the dev server did not answer on ${this.address}`);
  }

  /** Bundles both workflow sets once, with the failure converter the encrypted data converter names. */
  private async bundle(): Promise<void> {
    const logger = new DefaultLogger('WARN');
    const sources: Record<Target, string> = { case: WORKFLOWS_PATH, baseline: require.resolve('./baseline/workflows') };
    for (const target of TARGETS) {
      const started = Date.now();
      const { code } = await bundleWorkflowCode({
        workflowsPath: sources[target],
        failureConverterPath: FAILURE_CONVERTER_PATH,
        logger,
      });
      const file = path.join(this.opts.workDir, `${target}-bundle.js`);
      fs.writeFileSync(file, code);
      this.bundles.set(target, file);
      this.opts.log(
        `bundled ${target} workflows: ${(code.length / 1024).toFixed(0)} KiB in ${Date.now() - started} ms`,
      );
    }
  }

  /**
   * CPU time (user + system) the dev server has used, from /proc (Linux); undefined elsewhere.
   * Its share of each case counts: the more events and upserts a workflow makes, the more it costs.
   * With `cluster`: the Temporal server's and PostgreSQL's, every process of theirs included (each
   * PostgreSQL connection is a process of its own).
   */
  serverCpuMs(): number | undefined {
    return this.cluster ? treeCpuMs(this.cluster.serverPids()) : processCpuMs(this.server!.pid!);
  }

  bundleSize(target: Target): number {
    return fs.statSync(this.bundles.get(target)!).size;
  }

  private spawnChild(name: string, script: string, env: NodeJS.ProcessEnv): Promise<Child> {
    const out = fs.openSync(path.join(this.opts.workDir, `${name}.log`), 'a');
    const proc = fork(path.join(__dirname, 'processes', script), [], {
      // thread-gc.cjs lets the worker collect garbage in its workflow threads too (see there).
      execArgv: [...process.execArgv, '--expose-gc', '--require', path.join(__dirname, 'processes', 'thread-gc.cjs')],
      env,
      stdio: ['ignore', out, out, 'ipc'],
    });
    fs.closeSync(out);
    return new Promise((resolve, reject) => {
      const child = new Child(name, proc, (m) => {
        if (m.type === 'ready') {
          child.port = m.port;
          resolve(child);
        } else if (m.type === 'contact') this.contacts.record(m.to, m.at);
      });
      this.children.add(child);
      void child.exited.then((code) => {
        this.children.delete(child);
        reject(
          new Error(
            `${name} exited (${String(code)}) before it was ready; see ${path.join(this.opts.workDir, `${name}.log`)}`,
          ),
        );
      });
    });
  }

  startWorker(target: Target, tuning?: WorkerSpec['tuning'], env: Record<string, string> = {}): Promise<Child> {
    const spec: WorkerSpec = { kind: target, bundlePath: this.bundles.get(target)!, tuning };
    return this.spawnChild(`${target}-worker`, 'worker.ts', {
      ...this.env(target, env),
      BENCH_WORKER: JSON.stringify(spec),
    });
  }

  startWeb(target: Target): Promise<Child> {
    return this.spawnChild(`${target}-web`, 'web.ts', this.env(target));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.children].map((c) => c.stop().catch(() => undefined)));
    if (this.server && this.server.exitCode === null) {
      const done = new Promise((r) => this.server!.once('exit', r));
      this.server.kill('SIGTERM');
      const killer = setTimeout(() => this.server!.kill('SIGKILL'), 15_000);
      await done;
      clearTimeout(killer);
    }
    await this.cluster?.stop();
    await this.sink?.close();
  }
}

/** Linux's USER_HZ: the unit of utime and stime in /proc/<pid>/stat (100 on every common build). */
const CLOCK_TICKS = 100;

/** The fields of /proc/<pid>/stat after the command name (the third on), or undefined once it is gone. */
function procStat(pid: number | string): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used, from /proc (Linux); undefined elsewhere or once it is gone. */
export function processCpuMs(pid: number): number | undefined {
  const f = procStat(pid);
  return f && ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
}

/**
 * CPU time of the processes `roots` and all their descendants, with what their exited children
 * used (each process's cutime and cstime), from /proc (Linux); undefined elsewhere.
 */
export function treeCpuMs(roots: readonly number[]): number | undefined {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return undefined;
  }
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const e of entries) {
    const f = procStat(e); // undefined: the process ended while /proc was read
    if (f) stats.set(Number(e), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
  }
  const inTree = new Set(roots.filter((r) => stats.has(r)));
  if (inTree.size === 0) return undefined;
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, s] of stats)
      if (!inTree.has(pid) && inTree.has(s.ppid)) {
        inTree.add(pid);
        grew = true;
      }
  }
  let ticks = 0;
  for (const pid of inTree) ticks += stats.get(pid)!.ticks;
  return (ticks * 1000) / CLOCK_TICKS;
}

/** The bench's own API token (only ever on loopback). */
export const API_TOKEN = 'bench-api-token-0123456789abcdefghijklmnop';

export function defaultWorkDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'shortnotice-bench-'));
}
