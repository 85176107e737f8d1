/**
 * Temporal test environments backed by the binaries src/dev/binaries.ts provisions (built into
 * the user cache on first use, never a machine-specific path). Always `await env.teardown()`.
 *
 * - createTimeSkippingEnv: the Java test server, for workflow tests that sleep through days.
 *   It has no visibility (list/count) and only pre-registered Custom* attributes, so ours are
 *   added through the operator service.
 * - createDevServerEnv: the real server from the Temporal CLI, for visibility queries, the Web UI
 *   and end-to-end paths.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporalCliExecutable, testServerExecutable } from '../../src/dev/binaries';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../../src/dev/start';
import { SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { ensureSearchAttributes } from '../../src/temporal/setup-search-attributes';

/** Flags every local dev server gets: the dynamic config of `npm start`'s, and a faster SQLite. */
export const DEV_SERVER_EXTRA_ARGS = [
  ...DEV_SERVER_DYNAMIC_CONFIG.flatMap((v) => ['--dynamic-config-value', v]),
  '--sqlite-pragma',
  'journal_mode=WAL',
  '--sqlite-pragma',
  'synchronous=OFF',
];

const log = (line: string) => process.stderr.write(`[temporal-test-env] ${line}\n`);

export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const executable = await testServerExecutable({ log });
  let env: TestWorkflowEnvironment;
  try {
    env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable } });
  } catch (e) {
    // The SDK gives the JVM about 5 s to answer; on a machine busy bundling workflows, try once more.
    log(`time-skipping server did not start (${e instanceof Error ? e.message : String(e)}); retrying once`);
    env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable } });
  }
  try {
    await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  } catch (e) {
    await env.teardown();
    throw e;
  }
  return env;
}

/**
 * A time-skipping server of its own for each test in the calling file or describe block, handed to
 * `set` before the test runs and torn down after it. Sharing one server, a test's env.sleep() now
 * and then never returned (about one run in three of absence.test.ts, once in a full suite for
 * safety.test.ts, never with the test alone): something an earlier test left on the server held
 * its clock. The cause, found later: a case terminated with an activity in flight leaves the
 * server a time-skipping lock it never gives back (test/workflows/test-server-clock.test.ts); the
 * harness now terminates only when nothing is in flight. A test starting from a clean server still
 * has no such coupling at all; a server starts in well under a second.
 */
export function timeSkippingServerPerTest(set: (env: TestWorkflowEnvironment) => void): void {
  let current: TestWorkflowEnvironment | undefined;
  beforeEach(async () => {
    current = await createTimeSkippingEnv();
    set(current);
  }, 180_000);
  afterEach(async () => {
    await current?.teardown();
    current = undefined;
  });
}

export interface DevServerEnvOptions {
  /** Serve the Web UI on this port (off by default). */
  uiPort?: number;
  namespace?: string;
  /** Persist to this SQLite file; in memory by default. */
  dbFilename?: string;
  /** gRPC port; a free one by default. */
  port?: number;
  /** Server log level (default "warn"). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** The codec the Web UI decodes through (`--ui-codec-endpoint`), as `npm start` sets it. */
  uiCodecEndpoint?: string;
}

export async function createDevServerEnv(opts: DevServerEnvOptions = {}): Promise<TestWorkflowEnvironment> {
  const executable = await temporalCliExecutable({ log });
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable,
      ip: '127.0.0.1',
      port: opts.port,
      namespace: opts.namespace,
      dbFilename: opts.dbFilename,
      ui: opts.uiPort !== undefined,
      uiPort: opts.uiPort,
      log: { format: 'pretty', level: opts.logLevel ?? 'warn' },
      searchAttributes: [...SEARCH_ATTRIBUTES],
      extraArgs: opts.uiCodecEndpoint ? [...DEV_SERVER_EXTRA_ARGS, '--ui-codec-endpoint', opts.uiCodecEndpoint] : DEV_SERVER_EXTRA_ARGS,
    },
  });
}
