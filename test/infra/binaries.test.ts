/**
 * Resolution order of the Temporal binaries, with temp dirs, a fake PATH and fake toolchains:
 * nothing here builds or downloads anything real.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  cacheDir,
  cachedCliPath,
  cachedTestServerPath,
  resolveTemporalCli,
  resolveTestServer,
  TEMPORAL_CLI_VERSION,
  TEST_SERVER_VERSION,
} from '../../src/dev/binaries';

let tmp: string;
let lines: string[];
const log = (line: string) => lines.push(line);

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shortnotice-binaries-'));
  lines = [];
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Writes an executable shell script; scripts use absolute paths because PATH is fake. */
function script(file: string, body: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

/** An environment that sees only `dirs` on PATH and caches under tmp/cache. */
function envWith(dirs: string[], extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const bin = dirs.map((d) => path.join(tmp, d));
  bin.forEach((d) => fs.mkdirSync(d, { recursive: true }));
  return { PATH: bin.join(path.delimiter), HOME: path.join(tmp, 'home'), SHORTNOTICE_CACHE_DIR: path.join(tmp, 'cache'), ...extra };
}

/** A fake `go` that counts its runs and "builds" a temporal binary into $GOBIN. */
function fakeGo(dir: string, opts: { fail?: boolean; seconds?: number } = {}): string {
  const counter = path.join(tmp, 'go-runs');
  return script(
    path.join(tmp, dir, 'go'),
    [
      `echo "$@" >> '${counter}'`,
      `/bin/sleep ${opts.seconds ?? 0}`,
      opts.fail ? 'echo "go: module lookup disabled" >&2; exit 1' : `printf '#!/bin/sh\\necho fake temporal\\n' > "$GOBIN/temporal" && /bin/chmod +x "$GOBIN/temporal"`,
    ].join('\n'),
  );
}
const goRuns = () => (fs.existsSync(path.join(tmp, 'go-runs')) ? fs.readFileSync(path.join(tmp, 'go-runs'), 'utf8').trim().split('\n') : []);

describe('cache directory', () => {
  it('when SHORTNOTICE_CACHE_DIR is set, then it is the cache', () => {
    expect(cacheDir({ SHORTNOTICE_CACHE_DIR: '/x/y' })).toBe('/x/y');
  });
  it('when only XDG_CACHE_HOME is set, then the cache is its shortnotice folder', () => {
    expect(cacheDir({ XDG_CACHE_HOME: '/xdg', HOME: '/home/u' })).toBe('/xdg/shortnotice');
  });
  it('when neither is set, then the cache is ~/.cache/shortnotice', () => {
    expect(cacheDir({ HOME: '/home/u' })).toBe('/home/u/.cache/shortnotice');
  });
  it('when resolving cached paths, then they carry the pinned versions', () => {
    expect(cachedCliPath({ SHORTNOTICE_CACHE_DIR: '/c' })).toBe(`/c/temporal-cli-${TEMPORAL_CLI_VERSION}/temporal`);
    expect(cachedTestServerPath({ SHORTNOTICE_CACHE_DIR: '/c' })).toBe(`/c/temporal-test-server-${TEST_SERVER_VERSION}/temporal-test-server`);
  });
});

describe('Temporal CLI resolution', () => {
  it('when TEMPORAL_CLI_PATH is set, then it wins over PATH and the cache', async () => {
    const explicit = script(path.join(tmp, 'explicit', 'my-temporal'), 'exit 0');
    const env = envWith(['bin'], { TEMPORAL_CLI_PATH: explicit });
    script(path.join(tmp, 'bin', 'temporal'), 'exit 0');
    script(cachedCliPath(env), 'exit 0');
    const r = await resolveTemporalCli({ env, log });
    expect(r).toMatchObject({ source: 'env', executable: { type: 'existing-path', path: explicit } });
  });

  it('when TEMPORAL_CLI_PATH names no executable, then resolution fails naming the variable', async () => {
    const env = envWith(['bin'], { TEMPORAL_CLI_PATH: path.join(tmp, 'missing') });
    script(path.join(tmp, 'bin', 'temporal'), 'exit 0');
    await expect(resolveTemporalCli({ env, log })).rejects.toThrow(/TEMPORAL_CLI_PATH=.*not an executable/);
  });

  it('when temporal is on PATH, then it wins over the cache', async () => {
    const env = envWith(['empty', 'bin']);
    const onPath = script(path.join(tmp, 'bin', 'temporal'), 'exit 0');
    script(cachedCliPath(env), 'exit 0');
    fs.writeFileSync(path.join(tmp, 'empty', 'temporal'), 'not executable', { mode: 0o644 });
    const r = await resolveTemporalCli({ env, log });
    expect(r).toMatchObject({ source: 'path', path: onPath });
  });

  it('when only the cached build exists, then it is used without running go', async () => {
    const env = envWith(['bin']);
    fakeGo('bin');
    const cached = script(cachedCliPath(env), 'exit 0');
    const r = await resolveTemporalCli({ env, log });
    expect(r).toMatchObject({ source: 'cache', path: cached });
    expect(goRuns()).toEqual([]);
  });

  it('when Go is missing, then the SDK download marker comes back and a line says why', async () => {
    const env = envWith(['bin']);
    const r = await resolveTemporalCli({ env, log });
    expect(r.executable).toEqual({ type: 'cached-download' });
    expect(r.source).toBe('sdk-download');
    expect(lines.join('\n')).toMatch(/Go is not installed/);
  });

  it('when Go is present, then go install builds the pinned module into the cache, with progress lines', async () => {
    const env = envWith(['bin']);
    fakeGo('bin', { seconds: 0.5 });
    const r = await resolveTemporalCli({ env, log, heartbeatMs: 100 });
    expect(r).toMatchObject({ source: 'built', path: cachedCliPath(env) });
    expect(goRuns()).toEqual([`install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`]);
    expect(spawnSync(cachedCliPath(env)).stdout.toString()).toBe('fake temporal\n');
    expect(lines[0]).toMatch(/building Temporal dev server.*first run only, a few minutes/);
    expect(lines.some((l) => /still building the Temporal CLI, .* elapsed/.test(l))).toBe(true);
    // Nothing half-built or locked is left beside the cache entry.
    expect(fs.readdirSync(cacheDir(env))).toEqual([`temporal-cli-${TEMPORAL_CLI_VERSION}`]);
  });

  it('when several callers provision at once, then go runs once and all get the same binary', async () => {
    const env = envWith(['bin']);
    fakeGo('bin', { seconds: 0.5 });
    const results = await Promise.all([1, 2, 3].map(() => resolveTemporalCli({ env, log })));
    expect(goRuns()).toHaveLength(1);
    expect(new Set(results.map((r) => r.path))).toEqual(new Set([cachedCliPath(env)]));
  });

  it('when go install fails, then the error says so and nothing is cached', async () => {
    const env = envWith(['bin']);
    fakeGo('bin', { fail: true });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await expect(resolveTemporalCli({ env, log })).rejects.toThrow(/go install .* failed \(exit 1\)/);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toMatch(/module lookup disabled/);
    } finally {
      stderr.mockRestore();
    }
    expect(fs.existsSync(cachedCliPath(env))).toBe(false);
    expect(fs.readdirSync(cacheDir(env))).toEqual([]);
  });
});

describe('time-skipping test server resolution', () => {
  /** A fake mvn that drops the test-server jar into -DoutputDirectory. */
  function fakeMvn(dir: string): void {
    script(
      path.join(tmp, dir, 'mvn'),
      [
        `echo "$@" >> '${path.join(tmp, 'mvn-runs')}'`,
        'for a in "$@"; do case "$a" in -DoutputDirectory=*) out="${a#-DoutputDirectory=}";; esac; done',
        `/bin/mkdir -p "$out" && echo jar > "$out/temporal-test-server-${TEST_SERVER_VERSION}.jar"`,
      ].join('\n'),
    );
  }
  /** A fake java that reports its pid and arguments. */
  const fakeJava = (dir: string) => script(path.join(tmp, dir, 'java'), 'echo "pid=$$"; for a in "$@"; do echo "arg=$a"; done');

  it('when TEMPORAL_TEST_SERVER_PATH is set, then it wins over the cache', async () => {
    const explicit = script(path.join(tmp, 'explicit', 'ts'), 'exit 0');
    const env = envWith(['bin'], { TEMPORAL_TEST_SERVER_PATH: explicit });
    script(cachedTestServerPath(env), 'exit 0');
    expect(await resolveTestServer({ env, log })).toMatchObject({ source: 'env', path: explicit });
  });

  it('when the wrapper is cached, then it is used', async () => {
    const env = envWith(['bin']);
    const cached = script(cachedTestServerPath(env), 'exit 0');
    expect(await resolveTestServer({ env, log })).toMatchObject({ source: 'cache', path: cached });
  });

  it.each([
    ['Java', ['mvn']],
    ['Maven', ['java']],
  ])('when %s is missing, then the SDK download marker comes back', async (missing, present) => {
    const env = envWith(['bin']);
    if (present.includes('mvn')) fakeMvn('bin');
    if (present.includes('java')) fakeJava('bin');
    const r = await resolveTestServer({ env, log, mavenHomes: [] });
    expect(r.executable).toEqual({ type: 'cached-download' });
    expect(lines.join('\n')).toContain(`${missing} is not installed`);
  });

  it.each([
    ['MAVEN_HOME names it', (home: string) => ({ env: envWith(['bin'], { MAVEN_HOME: home }), mavenHomes: [] })],
    ['it sits in a known Maven home (Debian without its /usr/bin/mvn link)', (home: string) => ({ env: envWith(['bin']), mavenHomes: [path.join(tmp, 'nothing-here'), home] })],
  ])('when mvn is not on PATH but %s, then the wrapper is built with that Maven', async (_how, setup) => {
    fakeMvn('maven/bin');
    fakeJava('bin');
    const { env, mavenHomes } = setup(path.join(tmp, 'maven'));
    const r = await resolveTestServer({ env, log, trainCds: false, mavenHomes });
    expect(r).toMatchObject({ source: 'built', path: cachedTestServerPath(env) });
    expect(fs.readFileSync(path.join(tmp, 'mvn-runs'), 'utf8')).toContain('copy-dependencies');
  });

  it('when Java and Maven are present, then a wrapper is built that execs the JVM without time skipping on', async () => {
    const env = envWith(['bin']);
    fakeMvn('bin');
    fakeJava('bin');
    const r = await resolveTestServer({ env, log, trainCds: false });
    expect(r).toMatchObject({ source: 'built', path: cachedTestServerPath(env) });
    const dir = path.dirname(cachedTestServerPath(env));
    expect(fs.readFileSync(path.join(dir, 'pom.xml'), 'utf8')).toContain(`<artifactId>temporal-test-server</artifactId>\n      <version>${TEST_SERVER_VERSION}</version>`);
    const wrapper = fs.readFileSync(r.path!, 'utf8');
    expect(wrapper).toMatch(/^exec "\$java" .*io\.temporal\.testserver\.TestServer "\$@"$/m);
    expect(wrapper).not.toContain('--enable-time-skipping');

    // The SDK kills the pid it spawned, so that pid must be the JVM itself.
    const run = spawnSync(r.path!, ['7233'], { encoding: 'utf8' });
    const out = run.stdout.split('\n');
    expect(out).toContain(`pid=${run.pid}`);
    expect(out).toContain('arg=io.temporal.testserver.TestServer');
    expect(out[out.length - 2]).toBe('arg=7233');
    expect(out).toContain('arg=-XX:TieredStopAtLevel=1');
    expect(out).not.toContain('arg=--enable-time-skipping');
    expect(out.some((l) => l.startsWith('arg=-XX:SharedArchiveFile'))).toBe(false); // no archive trained
  });
});
