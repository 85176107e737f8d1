/**
 * A private PostgreSQL server for the native cluster: Debian's binaries, a data directory under
 * the project's var/, a non-default port on 127.0.0.1 only, password (SCRAM) authentication.
 *
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` system user (Debian's
 * package creates it) or, failing that, `nobody`; otherwise as the current user. A checkout that
 * user cannot reach (a clone under a 0700 temporary folder, say) gets search permission on the
 * blocking folders only, and says so.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface PgUser {
  name: string;
  uid: number;
  gid: number;
}

export interface PostgresOptions {
  /** Holds data/, the socket folder and the log. */
  dir: string;
  port: number;
  /**
   * The superuser Temporal connects as (as in compose's postgres image: a database server that
   * holds Temporal's data only), and its password.
   */
  superUser: string;
  superPassword: string;
  log?: (line: string) => void;
}

const POSTGRES_BINARIES = ['postgres', 'initdb', 'pg_ctl', 'psql'] as const;
type PgBinary = (typeof POSTGRES_BINARIES)[number];

/** Debian keeps each major version's programs in /usr/lib/postgresql/<major>/bin; the newest wins. */
export function findPostgresBinDir(root = '/usr/lib/postgresql'): string | undefined {
  let majors: number[] = [];
  try {
    majors = fs
      .readdirSync(root)
      .map(Number)
      .filter((n) => Number.isInteger(n) && n >= 12);
  } catch {
    return undefined;
  }
  for (const major of majors.sort((a, b) => b - a)) {
    const bin = path.join(root, String(major), 'bin');
    if (POSTGRES_BINARIES.every((b) => fs.existsSync(path.join(bin, b)))) return bin;
  }
  return undefined;
}

function lookupUser(name: string): PgUser | undefined {
  const res = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (res.status !== 0 || gid.status !== 0) return undefined;
  return { name, uid: Number(res.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** The user PostgreSQL runs as: undefined means "this process's user". */
export function postgresUser(): PgUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const user = lookupUser('postgres') ?? lookupUser('nobody');
  if (!user)
    throw new Error('running as root, but neither a "postgres" nor a "nobody" user exists to run PostgreSQL as');
  return user;
}

/** Gives `user` search permission on every folder above `dir` that it cannot pass through. */
function ensureReachable(dir: string, user: PgUser, log: (l: string) => void): void {
  const blocked: string[] = [];
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    const ok = spawnSync('test', ['-x', d], { uid: user.uid, gid: user.gid }).status === 0;
    if (!ok) blocked.push(d);
    if (d === path.dirname(d)) break;
  }
  for (const d of blocked.reverse()) {
    fs.chmodSync(d, fs.statSync(d).mode | 0o001);
    log(`gave other users search (x) permission on ${d} so PostgreSQL (user ${user.name}) can reach its data`);
  }
}

function chownTree(dir: string, user: PgUser): void {
  fs.chownSync(dir, user.uid, user.gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, user);
    else fs.chownSync(p, user.uid, user.gid);
  }
}

export class Postgres {
  readonly bin: string;
  readonly user: PgUser | undefined;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private readonly log: (l: string) => void;

  constructor(private readonly o: PostgresOptions) {
    const bin = findPostgresBinDir();
    if (!bin)
      throw new Error(
        'PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin); on Debian: apt-get install postgresql',
      );
    this.bin = bin;
    this.user = postgresUser();
    this.dataDir = path.join(o.dir, 'data');
    this.socketDir = path.join(o.dir, 'run');
    this.logFile = path.join(o.dir, 'postgres.log');
    this.log = o.log ?? (() => undefined);
  }

  private program(name: PgBinary): string {
    return path.join(this.bin, name);
  }

  private asUser() {
    return this.user ? { uid: this.user.uid, gid: this.user.gid } : {};
  }

  /** The major version, from `postgres --version`. */
  version(): string {
    const out = spawnSync(this.program('postgres'), ['--version'], { encoding: 'utf8' }).stdout.trim();
    return /(\d+(\.\d+)?)/.exec(out)?.[1] ?? out;
  }

  get initialised(): boolean {
    return fs.existsSync(path.join(this.dataDir, 'PG_VERSION'));
  }

  /** Creates the data directory (first run only). */
  init(): void {
    if (this.initialised) return;
    fs.mkdirSync(this.o.dir, { recursive: true });
    fs.rmSync(this.dataDir, { recursive: true, force: true });
    fs.mkdirSync(this.dataDir, { mode: 0o700 });
    fs.mkdirSync(this.socketDir, { recursive: true, mode: 0o700 });
    const pwfile = path.join(this.o.dir, `.pw-${process.pid}`);
    fs.writeFileSync(pwfile, `${this.o.superPassword}\n`, { mode: 0o600 });
    if (this.user) {
      ensureReachable(this.o.dir, this.user, this.log);
      chownTree(this.o.dir, this.user);
    }
    try {
      const res = spawnSync(
        this.program('initdb'),
        [
          '-D',
          this.dataDir,
          `--username=${this.o.superUser}`,
          `--pwfile=${pwfile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C',
          '--no-instructions',
        ],
        { ...this.asUser(), encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
      );
      if (res.status !== 0) throw new Error(`initdb failed (exit ${String(res.status)}):\n${res.stdout}${res.stderr}`);
    } finally {
      fs.rmSync(pwfile, { force: true });
    }
  }

  /** Starts the server and resolves once it answers queries. */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running) return;
    fs.mkdirSync(this.socketDir, { recursive: true, mode: 0o700 });
    if (this.user) fs.chownSync(this.socketDir, this.user.uid, this.user.gid);
    const out = fs.openSync(this.logFile, 'a');
    if (this.user) fs.fchownSync(out, this.user.uid, this.user.gid);
    const args = [
      '-D',
      this.dataDir,
      '-p',
      String(this.o.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${this.socketDir}`,
      // Temporal holds about 30 connections per server process (default store and visibility).
      '-c',
      'max_connections=200',
      '-c',
      'shared_buffers=64MB',
    ];
    // Its own process group: a Ctrl-C meant for the launcher must not stop it out of turn.
    const child = spawn(this.program('postgres'), args, {
      ...this.asUser(),
      stdio: ['ignore', out, out],
      env: { ...process.env, LC_ALL: 'C' },
      detached: true,
    });
    fs.closeSync(out);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      // The port opens before recovery ends ("the database system is starting up"): wait for a query.
      if ((await tcpOpen(this.o.port)) && this.ready()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `PostgreSQL did not start on 127.0.0.1:${this.o.port}; see ${this.logFile}:\n${tail(this.logFile)}`,
    );
  }

  /** True once the server answers a query (it accepts connections before it can serve them). */
  private ready(): boolean {
    try {
      this.psql('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /**
   * Stops the server. `immediate` is a crash for the database's purposes (no checkpoint; the next
   * start replays the write-ahead log); `fast` is the orderly shutdown.
   */
  async stop(mode: 'fast' | 'immediate' = 'fast', timeoutMs = 60_000): Promise<void> {
    if (!this.running || !this.child) return;
    // SIGTERM is "smart"/fast depending on version; SIGINT is fast; SIGQUIT is immediate.
    this.child.kill(mode === 'immediate' ? 'SIGQUIT' : 'SIGINT');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Runs SQL as the superuser over TCP; throws with psql's message on failure. */
  psql(sql: string, database = 'postgres'): string {
    const res = spawnSync(
      this.program('psql'),
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(this.o.port),
        '-U',
        this.o.superUser,
        '-d',
        database,
        '-v',
        'ON_ERROR_STOP=1',
        '-Atc',
        sql,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, PGPASSWORD: this.o.superPassword, PGCONNECT_TIMEOUT: '10' },
      },
    );
    if (res.status !== 0) throw new Error(`psql failed: ${res.stderr.trim()}`);
    return res.stdout.trim();
  }
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function tcpOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
  });
}
