/**
 * `npm run provision [-- --cluster]`: makes sure the Temporal CLI and the time-skipping test server
 * are available (building them into the cache on first use), then prints where they are and how
 * fast the test server starts. With --cluster, also what `npm run cluster` and the fault-injection
 * suite run (Temporal server and SQL tool, Web UI server, Node LTS). CI runs it before the tests
 * so the builds show up as their own step, with their times.
 */
import {
  cacheDir,
  formatDuration,
  probeStart,
  resolveTemporalCli,
  resolveTestServer,
  TEMPORAL_CLI_VERSION,
  TEST_SERVER_VERSION,
  type Resolved,
} from './binaries';
import { provisionCluster } from './cluster-binaries';

const log = (line: string) => process.stdout.write(`[provision] ${line}\n`);

function describe(name: string, r: Resolved, ms: number): void {
  const where = r.path ?? '(downloaded by @temporalio/testing at first use)';
  const how =
    r.buildMs !== undefined ? `built in ${formatDuration(r.buildMs)}` : `found (${r.source}) in ${formatDuration(ms)}`;
  log(`${name}: ${where} — ${how}`);
}

async function main(): Promise<void> {
  log(`cache: ${cacheDir()}`);
  let t = Date.now();
  const cli = await resolveTemporalCli({ log });
  describe(`Temporal CLI ${TEMPORAL_CLI_VERSION}`, cli, Date.now() - t);

  t = Date.now();
  const testServer = await resolveTestServer({ log });
  describe(`Temporal test server ${TEST_SERVER_VERSION}`, testServer, Date.now() - t);
  if (testServer.coldStartMs !== undefined) {
    log(
      `test server cold start (no class-data archive) to first gRPC answer: ${formatDuration(testServer.coldStartMs)}`,
    );
  }
  if (testServer.path) {
    const probe = await probeStart(testServer.path);
    if (!probe.ok) {
      throw new Error(`the test server at ${testServer.path} did not answer gRPC within ${formatDuration(probe.ms)}`);
    }
    // The SDK gives the test server about 5 s (50 connection attempts 100 ms apart).
    const verdict = probe.ms < 4000 ? 'within' : 'CLOSE TO OR OVER';
    log(`test server start to first gRPC answer: ${formatDuration(probe.ms)} (${verdict} the SDK's ~5 s budget)`);
  }
  if (process.argv.includes('--cluster')) {
    t = Date.now();
    const cluster = await provisionCluster({ log });
    for (const b of cluster.builds) log(`${b.what}: built or fetched in ${formatDuration(b.ms)}`);
    log(
      `cluster binaries ready in ${formatDuration(Date.now() - t)}: ${cluster.temporalServer}, ${cluster.uiServer}, ${cluster.node}`,
    );
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`[provision] FAILED: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
