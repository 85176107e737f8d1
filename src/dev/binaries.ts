/**
 * Finds or provisions the two Temporal servers the project runs locally: the Temporal CLI (dev
 * server with the Web UI) and the Java time-skipping test server.
 *
 * @temporalio/testing downloads both from temporal.download by default, which is unreachable on
 * machines that only reach package registries. So the CLI is built from the Go module proxy and the
 * test server is assembled from Maven Central, once, into a per-user cache. When neither toolchain
 * is present, the SDK's own download is the last resort.
 *
 * Several jest files or processes may ask at the same time: builds run under a lock directory in
 * the cache and results appear by atomic rename, so a half-built binary is never visible.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
/** Newest io.temporal:temporal-test-server that resolves from Maven Central (checked 2026-11). */
export const TEST_SERVER_VERSION = '1.38.0';
const DEPENDENCY_PLUGIN_VERSION = '3.8.1';
/** The slf4j-api version the test server's classpath brings. */
const SLF4J_VERSION = '1.7.36';
const TEST_SERVER_MAIN = 'io.temporal.testserver.TestServer';

/** The `executable` option of @temporalio/testing's server configs (structurally identical). */
export type ServerExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download' };

export type Source = 'env' | 'path' | 'cache' | 'built' | 'sdk-download';

export interface Resolved {
  executable: ServerExecutable;
  source: Source;
  /** Absolute path, except for 'sdk-download'. */
  path?: string;
  /** Set when this call built the binary. */
  buildMs?: number;
}

export interface ResolveOptions {
  /** Environment to read (PATH, HOME, overrides); defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Progress lines; defaults to stderr. */
  log?: (line: string) => void;
  /** Milliseconds between "still building" lines. */
  heartbeatMs?: number;
  /** Train an AppCDS archive after building the test server (default true). */
  trainCds?: boolean;
  /**
   * Maven homes to look in when `mvn` is on neither MAVEN_HOME nor PATH; default Debian's
   * /usr/share/maven, whose /usr/bin/mvn link some machine images lack.
   */
  mavenHomes?: readonly string[];
}

export const defaultLog = (line: string) => process.stderr.write(`${line}\n`);

/** `${SHORTNOTICE_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/shortnotice}` */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SHORTNOTICE_CACHE_DIR) return path.resolve(env.SHORTNOTICE_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache');
  return path.join(path.resolve(xdg), 'shortnotice');
}

export function cachedCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), `temporal-cli-${TEMPORAL_CLI_VERSION}`, 'temporal');
}

export function cachedTestServerPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), `temporal-test-server-${TEST_SERVER_VERSION}`, 'temporal-test-server');
}

export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Looks a command up on env.PATH, like `command -v`. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return path.resolve(candidate);
  }
  return undefined;
}

function explicitPath(variable: string, env: NodeJS.ProcessEnv): string | undefined {
  const value = env[variable];
  if (!value) return undefined;
  const file = path.resolve(value);
  // An explicit choice that is wrong must fail loudly, not fall through to something else.
  if (!isExecutable(file)) throw new Error(`${variable}=${value} is not an executable file`);
  return file;
}

function existing(file: string, source: Source, buildMs?: number): Resolved {
  return { executable: { type: 'existing-path', path: file }, source, path: file, buildMs };
}

const SDK_DOWNLOAD: Resolved = { executable: { type: 'cached-download' }, source: 'sdk-download' };

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` while holding `<lockDir>` (mkdir is atomic). A lock whose owner died is taken over;
 * a lock without an owner file is trusted for 30 minutes, then treated as stale.
 */
export async function withLock<T>(
  lockDir: string,
  what: string,
  log: (l: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let stale = false;
      try {
        const pid = Number(fs.readFileSync(path.join(lockDir, 'pid'), 'utf8'));
        stale = Number.isInteger(pid) && pid > 0 && !pidAlive(pid);
      } catch {
        try {
          stale = Date.now() - fs.statSync(lockDir).mtimeMs > 30 * 60_000;
        } catch {
          continue; // the lock vanished between mkdir and stat: try again at once
        }
      }
      if (stale) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!announced) {
        log(`waiting for another process that is preparing ${what}…`);
        announced = true;
      }
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

export interface RunResult {
  code: number | null;
  output: string;
}

/** Runs a command quietly, printing a heartbeat; the caller prints `output` only on failure. */
export function runQuiet(
  command: string,
  args: string[],
  opts: { cwd?: string; env: NodeJS.ProcessEnv; log: (l: string) => void; heartbeatMs: number; what: string },
): Promise<RunResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setInterval(() => opts.log(`  … still ${opts.what}, ${formatDuration(Date.now() - started)} elapsed`), opts.heartbeatMs);
    child.on('error', (e) => {
      clearInterval(timer);
      resolve({ code: -1, output: `${output}\n${e.message}` });
    });
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, output });
    });
  });
}

/**
 * The Temporal CLI: TEMPORAL_CLI_PATH, then `temporal` on PATH, then the cached build, then a
 * fresh `go install` into the cache, then (no Go) the SDK's download.
 */
export async function resolveTemporalCli(opts: ResolveOptions = {}): Promise<Resolved> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? defaultLog;
  const fromEnv = explicitPath('TEMPORAL_CLI_PATH', env);
  if (fromEnv) return existing(fromEnv, 'env');
  const onPath = findOnPath('temporal', env);
  if (onPath) return existing(onPath, 'path');
  const cached = cachedCliPath(env);
  if (isExecutable(cached)) return existing(cached, 'cache');
  const go = findOnPath('go', env);
  if (!go) {
    log('Temporal CLI not found and Go is not installed: @temporalio/testing will try to download the dev server.');
    return SDK_DOWNLOAD;
  }
  const finalDir = path.dirname(cached);
  return withLock(`${finalDir}.lock`, 'the Temporal CLI', log, async () => {
    if (isExecutable(cached)) return existing(cached, 'cache');
    const tmpBin = `${finalDir}.tmp-${process.pid}`;
    fs.rmSync(tmpBin, { recursive: true, force: true });
    fs.mkdirSync(tmpBin, { recursive: true });
    log(`building Temporal dev server (${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION} with ${go}), first run only, a few minutes…`);
    const started = Date.now();
    const result = await runQuiet(go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      env: { ...env, GOBIN: tmpBin },
      log,
      heartbeatMs: opts.heartbeatMs ?? 20_000,
      what: 'building the Temporal CLI',
    });
    const built = path.join(tmpBin, 'temporal');
    if (result.code !== 0 || !isExecutable(built)) {
      fs.rmSync(tmpBin, { recursive: true, force: true });
      process.stderr.write(result.output);
      throw new Error(`go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION} failed (exit ${String(result.code)}); output above`);
    }
    fs.mkdirSync(finalDir, { recursive: true });
    fs.renameSync(built, cached);
    fs.rmSync(tmpBin, { recursive: true, force: true });
    const buildMs = Date.now() - started;
    log(`built Temporal CLI in ${formatDuration(buildMs)}: ${cached}`);
    return existing(cached, 'built', buildMs);
  });
}

/** JVM flags chosen for start-up time: the SDK gives the server about 5 s to answer. */
function jvmFlags(): string[] {
  return ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-XX:-UsePerfData', '-Xss512k', '-Xshare:auto'];
}

function testServerPom(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by shortnotice (src/dev/binaries.ts): fetches the Temporal test server's runtime classpath. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.shortnotice</groupId>
  <artifactId>temporal-test-server-classpath</artifactId>
  <version>${TEST_SERVER_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${TEST_SERVER_VERSION}</version>
    </dependency>
    <!-- Binds SLF4J to nothing: without a binding it prints a warning at every start. -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>${SLF4J_VERSION}</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>${DEPENDENCY_PLUGIN_VERSION}</version>
      </plugin>
    </plugins>
  </build>
</project>
`;
}

/**
 * The wrapper must `exec` (the SDK kills the pid it spawned, which must be the JVM) and must not
 * add --enable-time-skipping (the SDK unlocks time skipping itself).
 */
function testServerWrapper(java: string): string {
  return `#!/bin/sh
# Generated by shortnotice (src/dev/binaries.ts): Temporal time-skipping test server ${TEST_SERVER_VERSION}.
# Usage: temporal-test-server <port>; @temporalio/testing switches time skipping itself.
dir=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd -P)
java='${java.replace(/'/g, "'\\''")}'
[ -x "$java" ] || java=java
cds=
[ -f "$dir/app.jsa" ] && cds="-XX:SharedArchiveFile=$dir/app.jsa"
exec "$java" ${jvmFlags().join(' ')} $cds -cp "$dir/lib/*" ${TEST_SERVER_MAIN} "$@"
`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
  });
}

type ConnectionClass = typeof import('@temporalio/client').Connection;

/** Loaded before a timed start, so the measurement does not include loading the client library. */
async function loadConnection(): Promise<ConnectionClass> {
  return (await import('@temporalio/client')).Connection;
}

/**
 * Polls until a gRPC call to `address` succeeds (true), or the server exits or `timeoutMs` passes
 * (false). Uses the same client library as the app.
 */
export async function waitForGrpc(
  address: string,
  timeoutMs: number,
  exited: () => boolean = () => false,
  Connection?: ConnectionClass,
): Promise<boolean> {
  const Conn = Connection ?? (await loadConnection());
  const deadline = Date.now() + timeoutMs;
  const [host = '127.0.0.1', port = '7233'] = address.split(':');
  while (Date.now() < deadline && !exited()) {
    // grpc-js shares sub-channels between connections and backs a refused one off for a second,
    // so a plain TCP probe goes first while nothing listens yet.
    if (!(await tcpOpen(host, Number(port)))) {
      await sleep(25);
      continue;
    }
    try {
      const conn = await Conn.connect({ address, connectTimeout: 1000 });
      await conn.close();
      return true;
    } catch {
      await sleep(25);
    }
  }
  return false;
}

export interface StartProbe {
  ok: boolean;
  /** Spawn to first successful gRPC call. */
  ms: number;
}

/** Spawns a server that will listen on `port`, times it to its first gRPC answer, then stops it with SIGTERM. */
async function timedStart(command: string, args: string[], port: number, timeoutMs: number): Promise<StartProbe> {
  const Connection = await loadConnection();
  const started = Date.now();
  const child = spawn(command, args, { stdio: 'ignore' });
  let exited = false;
  const done = new Promise<void>((r) => child.on('exit', () => ((exited = true), r())));
  const ok = await waitForGrpc(`127.0.0.1:${port}`, timeoutMs, () => exited, Connection);
  const ms = Date.now() - started;
  if (!exited) {
    // SIGTERM, not SIGKILL: the JVM writes its class-data archive during a clean exit.
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await done;
    clearTimeout(killer);
  }
  return { ok, ms };
}

/** Starts `command <port> extraArgs…` (the SDK's calling convention) and times it to gRPC. */
export async function probeStart(command: string, args: string[] = [], timeoutMs = 60_000): Promise<StartProbe> {
  const port = await freePort();
  return timedStart(command, [String(port), ...args], port, timeoutMs);
}

/**
 * Records the classes the test server loads while starting and answering into an AppCDS archive
 * (the JVM writes it at a clean exit), so later starts map them instead of parsing jars.
 * Returns the time this first, archive-less start took to answer gRPC.
 */
async function trainCdsArchive(dir: string, java: string, log: (l: string) => void): Promise<number | undefined> {
  const archive = path.join(dir, 'app.jsa');
  const tmp = path.join(dir, `app.jsa.tmp-${process.pid}`);
  const port = await freePort();
  const args = [...jvmFlags(), `-XX:ArchiveClassesAtExit=${tmp}`, '-cp', `${dir}/lib/*`, TEST_SERVER_MAIN, String(port)];
  const { ok, ms } = await timedStart(java, args, port, 60_000);
  if (ok && fs.existsSync(tmp) && fs.statSync(tmp).size > 0) {
    fs.renameSync(tmp, archive);
    return ms;
  }
  fs.rmSync(tmp, { force: true });
  log('  (could not create the AppCDS archive; the test server will start without it)');
  return ok ? ms : undefined;
}

function findJava(env: NodeJS.ProcessEnv): string | undefined {
  if (env.JAVA_HOME) {
    const candidate = path.join(env.JAVA_HOME, 'bin', 'java');
    if (isExecutable(candidate)) return candidate;
  }
  const onPath = findOnPath('java', env);
  return onPath ? fs.realpathSync(onPath) : undefined;
}

/** `mvn` from MAVEN_HOME, then PATH, then the known Maven homes. */
function findMaven(env: NodeJS.ProcessEnv, homes: readonly string[]): string | undefined {
  const inHome = (home: string) => {
    const mvn = path.join(home, 'bin', 'mvn');
    return isExecutable(mvn) ? mvn : undefined;
  };
  return (env.MAVEN_HOME ? inHome(env.MAVEN_HOME) : undefined) ?? findOnPath('mvn', env) ?? homes.map(inHome).find(Boolean);
}

export interface ResolvedTestServer extends Resolved {
  /** Time to first gRPC answer without the AppCDS archive, measured while training it. */
  coldStartMs?: number;
}

/**
 * The time-skipping test server: TEMPORAL_TEST_SERVER_PATH, then the cached wrapper, then a fresh
 * Maven assembly into the cache, then (no Java or Maven) the SDK's download.
 */
export async function resolveTestServer(opts: ResolveOptions = {}): Promise<ResolvedTestServer> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? defaultLog;
  const fromEnv = explicitPath('TEMPORAL_TEST_SERVER_PATH', env);
  if (fromEnv) return existing(fromEnv, 'env');
  const cached = cachedTestServerPath(env);
  if (isExecutable(cached)) return existing(cached, 'cache');
  const java = findJava(env);
  const mvn = findMaven(env, opts.mavenHomes ?? ['/usr/share/maven']);
  if (!java || !mvn) {
    log(`Temporal test server not cached and ${java ? 'Maven' : 'Java'} is not installed: @temporalio/testing will try to download it.`);
    return SDK_DOWNLOAD;
  }
  const finalDir = path.dirname(cached);
  return withLock(`${finalDir}.lock`, 'the Temporal test server', log, async () => {
    if (isExecutable(cached)) return existing(cached, 'cache');
    const tmpDir = `${finalDir}.tmp-${process.pid}`;
    fs.rmSync(tmpDir, { recursive: true, force: true });
    fs.mkdirSync(tmpDir, { recursive: true });
    fs.writeFileSync(path.join(tmpDir, 'pom.xml'), testServerPom());
    log(`assembling Temporal test server ${TEST_SERVER_VERSION} from Maven Central, first run only…`);
    const started = Date.now();
    const result = await runQuiet(
      mvn,
      [
        '-B',
        '-q',
        '-f',
        path.join(tmpDir, 'pom.xml'),
        `org.apache.maven.plugins:maven-dependency-plugin:${DEPENDENCY_PLUGIN_VERSION}:copy-dependencies`,
        `-DoutputDirectory=${path.join(tmpDir, 'lib')}`,
        '-DincludeScope=runtime',
      ],
      { cwd: tmpDir, env, log, heartbeatMs: opts.heartbeatMs ?? 20_000, what: 'fetching the test server' },
    );
    const jars = fs.existsSync(path.join(tmpDir, 'lib')) ? fs.readdirSync(path.join(tmpDir, 'lib')) : [];
    if (result.code !== 0 || !jars.some((j) => j.startsWith('temporal-test-server-'))) {
      fs.rmSync(tmpDir, { recursive: true, force: true });
      process.stderr.write(result.output);
      throw new Error(`mvn dependency:copy-dependencies for io.temporal:temporal-test-server:${TEST_SERVER_VERSION} failed (exit ${String(result.code)}); output above`);
    }
    fs.writeFileSync(path.join(tmpDir, path.basename(cached)), testServerWrapper(java), { mode: 0o755 });
    fs.rmSync(finalDir, { recursive: true, force: true });
    fs.renameSync(tmpDir, finalDir);
    // The archive pins the absolute classpath, so it is trained in the final directory.
    let coldStartMs: number | undefined;
    if (opts.trainCds !== false) {
      log('  training a class-data archive so the JVM starts faster…');
      coldStartMs = await trainCdsArchive(fs.realpathSync(finalDir), java, log);
    }
    const buildMs = Date.now() - started;
    log(`assembled Temporal test server in ${formatDuration(buildMs)}: ${cached}`);
    return { ...existing(cached, 'built', buildMs), coldStartMs };
  });
}

export async function temporalCliExecutable(opts?: ResolveOptions): Promise<ServerExecutable> {
  return (await resolveTemporalCli(opts)).executable;
}

export async function testServerExecutable(opts?: ResolveOptions): Promise<ServerExecutable> {
  return (await resolveTestServer(opts)).executable;
}
