/**
 * The native production-shaped cluster: every service of src/dev/cluster-definition.ts as a
 * process on this machine, with state under var/ (PostgreSQL data, certificates, generated
 * secrets, logs). Used by `npm run cluster` and by the fault-injection suite, which kills and
 * restarts its processes for real.
 *
 * Public ports (Temporal, UI, web) can be fixed; everything else (PostgreSQL, the Temporal
 * services' internal and membership ports) takes a free port on 127.0.0.1. Every process listens
 * on 127.0.0.1 only. The app runs compiled JavaScript from dist/ on the provisioned Node LTS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporalConnectionOptions } from '../temporal/client';
import { formatDuration } from './binaries';
import type { ClusterBinaries } from './cluster-binaries';
import {
  DYNAMIC_CONFIG,
  environmentOf,
  READINESS_PATH,
  SCHEMA_SCRIPT,
  SERVICES,
  type DeploymentSetting,
  type Role,
  type SecretName,
  type ServiceName,
  type Topology,
} from './cluster-definition';
import { Postgres, tcpOpen } from './postgres';
import { portInUse } from './start';
import { makeCertificates, type CertificateFiles } from './tls';

export interface NativeClusterOptions {
  /** Project root: dist/, deploy/ and the mail sink's source are found there. */
  root: string;
  /** State folder (var/cluster by default). */
  dir: string;
  binaries: ClusterBinaries;
  /** Fixed public ports; each one left out is a free port. */
  ports?: { temporal?: number; ui?: number; web1?: number; web2?: number };
  /** Send mail here instead of running the cluster's own mail catcher. */
  smtpUrl?: string;
  /** Extra environment per role, over the definition's (tests: POLICY_JSON, API_TOKENS). */
  env?: Partial<Record<Role, Record<string, string>>>;
  /** Deployment settings (OIDC, API tokens); unset ones are empty or a placeholder. */
  settings?: Partial<Record<DeploymentSetting, string>>;
  /** Start from nothing: remove the state folder first. */
  fresh?: boolean;
  log?: (line: string) => void;
}

interface Proc {
  name: ServiceName;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Set when we stopped or killed it on purpose. */
  expectedExit: boolean;
}

/** The Temporal server's own ports besides the frontend's gRPC port (the template's variables). */
const TEMPORAL_INTERNAL_PORTS = [
  'FRONTEND_HTTP_PORT',
  'FRONTEND_MEMBERSHIP_PORT',
  'HISTORY_GRPC_PORT',
  'HISTORY_MEMBERSHIP_PORT',
  'MATCHING_GRPC_PORT',
  'MATCHING_MEMBERSHIP_PORT',
  'WORKER_GRPC_PORT',
  'WORKER_MEMBERSHIP_PORT',
] as const;

interface State {
  ports: {
    postgres: number;
    temporal: number;
    ui: number;
    mail: number;
    web: Record<'web-1' | 'web-2', number>;
    worker: Record<'worker-1' | 'worker-2', { health: number; sdkMetrics: number }>;
    internal: Record<(typeof TEMPORAL_INTERNAL_PORTS)[number], number>;
  };
  secrets: Record<SecretName, string>;
  apiToken: string;
}

/**
 * Where free ports are looked for: Temporal stores membership ports in a PostgreSQL smallint, so
 * they must stay below 32768, under the kernel's ephemeral range (which starts at 32768).
 */
const PORT_RANGE = { from: 20_000, to: 32_767 };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A random port in [from, to] that 127.0.0.1 can bind right now. */
export async function freePortInRange(from: number, to: number): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = from + Math.floor(Math.random() * (to - from + 1));
    if (!(await portInUse(port))) return port;
  }
  throw new Error(`no free port between ${from} and ${to}`);
}
const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

export class NativeCluster {
  readonly postgres: Postgres;
  readonly certificates: CertificateFiles;
  private readonly procs = new Map<ServiceName, Proc>();
  private readonly state: State;
  private readonly log: (line: string) => void;
  private stopping = false;
  /** Services that died without being told to (each was restarted). */
  readonly unplannedExits: { name: ServiceName; how: string; at: Date }[] = [];
  private readonly roleEnv: Partial<Record<Role, Record<string, string>>>;

  private constructor(
    private readonly o: NativeClusterOptions,
    state: State,
  ) {
    this.state = state;
    this.log = o.log ?? (() => undefined);
    this.roleEnv = { ...(o.env ?? {}) };
    this.certificates = makeCertificates(path.join(o.dir, 'tls'));
    const db = this.environment('postgresql');
    this.postgres = new Postgres({
      dir: path.join(o.dir, 'postgres'),
      port: state.ports.postgres,
      superUser: db.POSTGRES_USER!,
      superPassword: db.POSTGRES_PASSWORD!,
      log: this.log,
    });
  }

  /** Prepares the state folder (ports, secrets, certificates) without starting anything. */
  static async create(o: NativeClusterOptions): Promise<NativeCluster> {
    await reapLeftovers(o.dir, o.root, o.log ?? (() => undefined));
    if (o.fresh) fs.rmSync(o.dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(o.dir, 'logs'), { recursive: true });
    // Secrets persist with the data they protect: a new PAYLOAD_KEYS could not read old cases.
    const secretsFile = path.join(o.dir, 'secrets.json');
    const saved = fs.existsSync(secretsFile)
      ? (JSON.parse(fs.readFileSync(secretsFile, 'utf8')) as Pick<State, 'secrets' | 'apiToken'>)
      : undefined;
    const secrets = saved?.secrets.CASE_ID_KEY ? saved.secrets : {
      POSTGRES_PASSWORD: randomBytes(18).toString('base64url'),
      LINK_KEYS: key('k1'),
      PAYLOAD_KEYS: key('p1'),
      SESSION_KEYS: key('s1'),
      // Never rotated: case ids derive from it (a resubmitted session must find its case).
      CASE_ID_KEY: randomBytes(32).toString('base64'),
    };
    const apiToken = saved?.apiToken ?? randomBytes(32).toString('base64url');
    fs.writeFileSync(secretsFile, JSON.stringify({ secrets, apiToken }, null, 2), { mode: 0o600 });
    // Ports are checked one after another, so all are chosen before any is used.
    const taken = new Set<number>();
    const free = async (fixed?: number) => {
      if (fixed !== undefined) return fixed;
      for (;;) {
        const p = await freePortInRange(PORT_RANGE.from, PORT_RANGE.to);
        if (!taken.has(p)) {
          taken.add(p);
          return p;
        }
      }
    };
    const internal = {} as State['ports']['internal'];
    for (const name of TEMPORAL_INTERNAL_PORTS) internal[name] = await free();
    const state: State = {
      ports: {
        postgres: await free(),
        temporal: await free(o.ports?.temporal),
        ui: await free(o.ports?.ui),
        mail: await free(),
        web: { 'web-1': await free(o.ports?.web1), 'web-2': await free(o.ports?.web2) },
        worker: {
          'worker-1': { health: await free(), sdkMetrics: await free() },
          'worker-2': { health: await free(), sdkMetrics: await free() },
        },
        internal,
      },
      secrets,
      apiToken,
    };
    return new NativeCluster(o, state);
  }

  get temporalAddress(): string {
    return `127.0.0.1:${this.state.ports.temporal}`;
  }

  get webUrls(): Record<'web-1' | 'web-2', string> {
    return {
      'web-1': `http://127.0.0.1:${this.state.ports.web['web-1']}`,
      'web-2': `http://127.0.0.1:${this.state.ports.web['web-2']}`,
    };
  }

  get publicWebUrl(): string {
    return `http://localhost:${this.state.ports.web['web-1']}`;
  }

  /** Each worker's health server (/healthz, /readyz, /metrics). */
  get workerHealthUrls(): Record<'worker-1' | 'worker-2', string> {
    const { worker } = this.state.ports;
    return {
      'worker-1': `http://127.0.0.1:${worker['worker-1'].health}`,
      'worker-2': `http://127.0.0.1:${worker['worker-2'].health}`,
    };
  }

  get uiUrl(): string {
    return `http://localhost:${this.state.ports.ui}`;
  }

  get smtpUrl(): string {
    return this.o.smtpUrl ?? `smtp://127.0.0.1:${this.state.ports.mail}`;
  }

  get mailDir(): string {
    return path.join(this.o.dir, 'mail');
  }

  /** The generated API token (name `cluster`), when API_TOKENS is not set explicitly. */
  get apiToken(): string {
    return this.state.apiToken;
  }

  /** The topology of this machine's cluster: everything on 127.0.0.1, with mutual TLS. */
  topology(): Topology {
    const c = this.certificates;
    return {
      host: () => '127.0.0.1',
      ports: {
        postgres: this.state.ports.postgres,
        temporal: this.state.ports.temporal,
        ui: this.state.ports.ui,
        web: this.state.ports.web,
        worker: this.state.ports.worker,
      },
      publicWebUrl: this.publicWebUrl,
      publicUiUrl: this.uiUrl,
      dynamicConfigPath: path.join(this.o.root, DYNAMIC_CONFIG),
      smtpUrl: this.smtpUrl,
      secret: (name) => this.state.secrets[name],
      setting: (name) => this.o.settings?.[name] ?? this.defaultSetting(name),
      tls: {
        ca: c.ca,
        serverCert: c.serverCert,
        serverKey: c.serverKey,
        clientCert: c.clientCert,
        clientKey: c.clientKey,
        serverName: c.serverName,
      },
    };
  }

  private defaultSetting(name: DeploymentSetting): string {
    switch (name) {
      // Production refuses the development sign-in; without a real provider, staff cannot sign in.
      case 'OIDC_ISSUER_URL':
        return 'https://sign-in.invalid';
      case 'OIDC_CLIENT_ID':
        return 'shortnotice';
      case 'API_TOKENS':
        return `cluster:${this.state.apiToken}:submit+read`;
      default:
        return '';
    }
  }

  /** The app's environment for a role, as the cluster runs it (tests connect with the same). */
  environment(name: ServiceName): Record<string, string> {
    const spec = SERVICES.find((s) => s.name === name)!;
    const env = { ...environmentOf(this.topology(), name), ...(this.roleEnv[spec.role] ?? {}) };
    if (spec.role === 'temporal') {
      Object.assign(env, {
        FRONTEND_GRPC_PORT: String(this.state.ports.temporal),
        BIND_ON_IP: '127.0.0.1',
        TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
        ...Object.fromEntries(Object.entries(this.state.ports.internal).map(([k, v]) => [k, String(v)])),
      });
    }
    return env;
  }

  /** The running Temporal server's and PostgreSQL's pids (the benchmark reads their CPU time). */
  serverPids(): number[] {
    return [this.procs.get('temporal')?.child.pid, this.postgres.pid].filter((p): p is number => p !== undefined);
  }

  /** Changes the extra environment of a role for its processes started from now on. */
  setRoleEnvironment(role: Role, env: Record<string, string>): void {
    this.roleEnv[role] = { ...(this.roleEnv[role] ?? {}), ...env };
  }

  /** A client connection to the cluster's frontend, with the app's certificate. */
  connect(): Promise<Connection> {
    const c = this.certificates;
    return Connection.connect({
      ...temporalConnectionOptions({
        address: this.temporalAddress,
        tls: {
          ca: fs.readFileSync(c.ca),
          clientCert: { cert: fs.readFileSync(c.clientCert), key: fs.readFileSync(c.clientKey) },
          serverName: c.serverName,
        },
      }),
      connectTimeout: 5000,
    });
  }

  /**
   * Brings every service up in dependency order; resolves when the web apps answer. With
   * `temporalOnly`, stops once Temporal serves the namespace with its search attributes (the
   * benchmark brings its own workers and web apps).
   */
  async start(opts: { temporalOnly?: boolean } = {}): Promise<void> {
    const t0 = Date.now();
    // Checked before anything starts, so a missing build leaves nothing half up.
    this.assertBuilt(opts.temporalOnly ? ['setup-search-attributes'] : SERVICES.map((s) => s.name));
    const step = async (what: string, fn: () => Promise<void>) => {
      const started = Date.now();
      this.log(`${what}…`);
      await fn();
      this.log(`${what}: done in ${formatDuration(Date.now() - started)}`);
    };
    await step(
      `PostgreSQL ${this.postgres.version()} on 127.0.0.1:${this.state.ports.postgres}${this.postgres.user ? ` as user ${this.postgres.user.name}` : ''}`,
      async () => {
        this.postgres.init();
        await this.postgres.start();
        this.recordPids();
      },
    );
    await step('schema job (temporal-sql-tool: default store and SQL visibility)', () =>
      this.runJob('temporal-schema'),
    );
    await step(
      `Temporal server ${path.basename(path.dirname(this.o.binaries.temporalServer))} on ${this.temporalAddress} (mutual TLS)`,
      async () => {
        this.startService('temporal');
        await this.waitForTemporal(120_000);
      },
    );
    await step('namespace and search attributes (setup-search-attributes)', () =>
      this.runJob('setup-search-attributes'),
    );
    if (opts.temporalOnly) {
      this.log(`Temporal up in ${formatDuration(Date.now() - t0)}`);
      return;
    }
    await step(`Web UI on ${this.uiUrl} (read-only)`, async () => {
      this.startService('temporal-ui');
      await this.waitForHttp(this.uiUrl, 60_000, 'temporal-ui');
    });
    if (!this.o.smtpUrl) {
      await step(
        `mail catcher on ${this.smtpUrl} (messages in ${path.relative(this.o.root, this.mailDir)})`,
        async () => {
          this.startService('mail');
          await this.waitForPort(this.state.ports.mail, 30_000, 'mail');
        },
      );
    }
    await step('two workers and two web apps (node dist/…)', async () => {
      for (const name of ['worker-1', 'worker-2', 'web-1', 'web-2'] as const) this.startService(name);
      // Ready, not just alive: Temporal answers, a worker polls, SMTP and Notify are usable (503 until then).
      await Promise.all([
        ...(['worker-1', 'worker-2'] as const).map((w) =>
          this.waitForHttp(`${this.workerHealthUrls[w]}${READINESS_PATH}`, 60_000, w),
        ),
        ...(['web-1', 'web-2'] as const).map((w) => this.waitForHttp(`${this.webUrls[w]}${READINESS_PATH}`, 60_000, w)),
      ]);
    });
    this.log(`cluster up in ${formatDuration(Date.now() - t0)}`);
  }

  /** The app runs built, as in production: without dist/ its process would only die at start. */
  private assertBuilt(names: readonly ServiceName[]): void {
    for (const spec of SERVICES.filter((s) => names.includes(s.name)))
      if (spec.app && !fs.existsSync(path.join(this.o.root, spec.app[0]!)))
        throw new Error(`${spec.name} runs ${spec.app[0]!}, which is not built: run \`npm run build\` first`);
  }

  /** The command line of a service (absolute paths, the provisioned binaries). */
  private command(name: ServiceName): { command: string; args: string[] } {
    const spec = SERVICES.find((s) => s.name === name)!;
    const b = this.o.binaries;
    if (spec.app) {
      this.assertBuilt([name]);
      return { command: b.node, args: spec.app };
    }
    switch (spec.role) {
      case 'schema':
        return { command: 'sh', args: [path.join(this.o.root, SCHEMA_SCRIPT)] };
      case 'temporal':
        return {
          command: b.temporalServer,
          args: [
            '--root',
            this.configRoot('temporal', b.serverConfigRoot),
            '--config',
            'config',
            '--env',
            'docker',
            '--allow-no-auth',
            'start',
          ],
        };
      case 'ui':
        return {
          command: b.uiServer,
          args: ['--root', this.configRoot('ui', b.uiConfigRoot), '--config', 'config', '--env', 'docker', 'start'],
        };
      case 'mail':
        return {
          command: process.execPath,
          args: [
            require.resolve('tsx/cli'),
            path.join(this.o.root, 'src', 'dev', 'mail-sink.ts'),
            String(this.state.ports.mail),
            this.mailDir,
          ],
        };
      default:
        throw new Error(`${name} is not a process`);
    }
  }

  /**
   * A config folder holding the provisioned template (rendered by the server itself, from the
   * environment) and, for the UI, a base.yaml that binds it to 127.0.0.1 only.
   */
  private configRoot(kind: 'temporal' | 'ui', templateRoot: string): string {
    const root = path.join(this.o.dir, kind);
    fs.mkdirSync(path.join(root, 'config'), { recursive: true });
    fs.copyFileSync(path.join(templateRoot, 'config', 'docker.yaml'), path.join(root, 'config', 'docker.yaml'));
    if (kind === 'ui')
      fs.writeFileSync(
        path.join(root, 'config', 'base.yaml'),
        '# Written by src/dev/cluster.ts: loopback only.\nhost: 127.0.0.1\n',
      );
    return root;
  }

  /** Starts a long-running service (again); its output goes to logs/<name>.log. */
  startService(name: ServiceName): void {
    const running = this.procs.get(name);
    if (running && running.child.exitCode === null && running.child.signalCode === null)
      throw new Error(`${name} is already running`);
    const { command, args } = this.command(name);
    const logFile = path.join(this.o.dir, 'logs', `${name}.log`);
    const out = fs.openSync(logFile, 'a');
    fs.writeSync(out, `\n--- ${new Date().toISOString()} starting ${name}\n`);
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/',
      TEMPORAL_SQL_TOOL: this.o.binaries.sqlTool,
      ...this.environment(name),
    };
    const child = spawn(command, args, { cwd: this.o.root, env, stdio: ['ignore', out, out], detached: true });
    fs.closeSync(out);
    const proc: Proc = {
      name,
      child,
      expectedExit: false,
      exited: new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.once('error', (e) => {
          this.log(`${name}: could not start ${command}: ${e.message}`);
          resolve(-1);
        });
      }),
    };
    // Like compose's `restart: unless-stopped`: a service that dies by itself comes back.
    void proc.exited.then((code) => {
      const spec = SERVICES.find((s) => s.name === name)!;
      if (proc.expectedExit || this.stopping || spec.job) return;
      const how = child.signalCode ?? `code ${String(code)}`;
      this.unplannedExits.push({ name, how, at: new Date() });
      this.log(`${name} exited on its own (${how}); restarting it in 1 s (log: ${logFile})`);
      setTimeout(() => {
        if (!this.stopping && this.procs.get(name) === proc) this.startService(name);
      }, 1000);
    });
    this.procs.set(name, proc);
    this.recordPids();
  }

  /** Every process started here, so a later run can stop what a killed launcher left behind. */
  private recordPids(): void {
    const pids: Record<string, number> = {};
    for (const [name, p] of this.procs) if (p.child.pid !== undefined && this.isRunning(name)) pids[name] = p.child.pid;
    if (this.postgres.pid !== undefined) pids.postgresql = this.postgres.pid;
    fs.writeFileSync(path.join(this.o.dir, PIDS_FILE), JSON.stringify(pids));
  }

  /** Runs a one-shot job to completion; throws with the end of its log if it fails. */
  async runJob(name: ServiceName): Promise<void> {
    this.startService(name);
    const code = await this.procs.get(name)!.exited;
    if (code !== 0) {
      const log = path.join(this.o.dir, 'logs', `${name}.log`);
      throw new Error(`${name} failed (exit ${String(code)}); the end of ${log}:\n${tailOf(log)}`);
    }
  }

  isRunning(name: ServiceName): boolean {
    const p = this.procs.get(name);
    return p !== undefined && p.child.exitCode === null && p.child.signalCode === null;
  }

  pid(name: ServiceName): number | undefined {
    return this.isRunning(name) ? this.procs.get(name)!.child.pid : undefined;
  }

  /** Sends `signal` to the service's process group and waits for it to exit. */
  async kill(name: ServiceName, signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 30_000): Promise<void> {
    const p = this.procs.get(name);
    if (!p || !this.isRunning(name)) return;
    p.expectedExit = true;
    try {
      process.kill(-p.child.pid!, signal);
    } catch {
      p.child.kill(signal);
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-p.child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, timeoutMs);
    await p.exited;
    clearTimeout(timer);
  }

  async restart(name: ServiceName, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.kill(name, signal);
    this.startService(name);
  }

  /** Resolves once the frontend answers a gRPC call with the app's certificate. */
  async waitForTemporal(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!this.isRunning('temporal'))
        throw new Error(
          `the Temporal server exited; the end of its log:\n${tailOf(path.join(this.o.dir, 'logs', 'temporal.log'))}`,
        );
      if (await tcpOpen(this.state.ports.temporal)) {
        try {
          const conn = await this.connect();
          try {
            await conn.workflowService.getSystemInfo({});
            return;
          } finally {
            await conn.close();
          }
        } catch (e) {
          last = e instanceof Error ? e.message : String(e);
        }
      }
      await sleep(250);
    }
    throw new Error(
      `the Temporal server did not answer on ${this.temporalAddress} within ${formatDuration(timeoutMs)} (${last})`,
    );
  }

  async waitForHttp(url: string, timeoutMs: number, name: ServiceName): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.isRunning(name))
        throw new Error(`${name} exited; the end of its log:\n${tailOf(path.join(this.o.dir, 'logs', `${name}.log`))}`);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
        if (res.status < 500) return;
      } catch {
        /* not yet */
      }
      await sleep(200);
    }
    throw new Error(`${name} did not answer at ${url} within ${formatDuration(timeoutMs)}`);
  }

  private async waitForPort(port: number, timeoutMs: number, name: ServiceName): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.isRunning(name)) throw new Error(`${name} exited; see its log`);
      if (await tcpOpen(port)) return;
      await sleep(100);
    }
    throw new Error(`${name} did not listen on ${port} within ${formatDuration(timeoutMs)}`);
  }

  /** Stops everything in reverse order (SIGTERM, then SIGKILL), then PostgreSQL. */
  async stop(): Promise<void> {
    this.stopping = true;
    const order: ServiceName[] = [
      'web-1',
      'web-2',
      'worker-1',
      'worker-2',
      'mail',
      'temporal-ui',
      'setup-search-attributes',
      'temporal',
      'temporal-schema',
    ];
    for (const group of [order.slice(0, 4), order.slice(4)])
      await Promise.all(group.map((n) => this.kill(n, 'SIGTERM', 15_000)));
    await this.postgres.stop('fast');
  }
}

const PIDS_FILE = 'pids.json';

/**
 * Stops processes a previous launcher started and did not stop (it was killed, say). A pid is
 * only signalled while its command line still names this cluster's state folder or it runs the
 * app from this project, so a reused pid belonging to something else is left alone.
 */
async function reapLeftovers(dir: string, root: string, log: (l: string) => void): Promise<void> {
  let pids: Record<string, number>;
  try {
    pids = JSON.parse(fs.readFileSync(path.join(dir, PIDS_FILE), 'utf8')) as Record<string, number>;
  } catch {
    return;
  }
  const ours = (pid: number) => {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      return cmdline.includes(dir) || (cwd === root && cmdline.includes('dist/'));
    } catch {
      return false;
    }
  };
  const alive = Object.entries(pids).filter(([, pid]) => ours(pid));
  for (const [name, pid] of alive) {
    log(`stopping ${name} (pid ${pid}) left running by an earlier launcher`);
    // PostgreSQL's immediate shutdown; SIGKILL on the postmaster would strand its shared memory.
    process.kill(pid, name === 'postgresql' ? 'SIGQUIT' : 'SIGKILL');
  }
  for (let i = 0; i < 100 && alive.some(([, pid]) => ours(pid)); i++) await sleep(100);
  fs.rmSync(path.join(dir, PIDS_FILE), { force: true });
}

function tailOf(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
