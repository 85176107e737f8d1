/**
 * The web app as a child process of the benchmark, composed like `npm run web` (src/web/main.ts)
 * except for the API's per-caller limit: the benchmark is one caller sending far more than 300
 * submissions a minute, so it raises the limit (the limiter itself still runs on every request).
 */
import { CaseService } from '../../src/cases';
import { loadConfig } from '../../src/config';
import { LinkSealer } from '../../src/links';
import { createLogger } from '../../src/log';
import { connectTemporal } from '../../src/temporal/client';
import { startWebServer } from '../../src/web/main';
import { type ToWorker, send } from './ipc';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger({ level: config.logLevel, base: { service: 'web' } });
  const temporal = await connectTemporal(config);
  const cases = new CaseService({
    client: temporal.client,
    taskQueue: config.temporal.taskQueue,
    policy: config.policy,
    recordsMode: config.records.mode,
    caseIdKey: config.caseIdKey,
  });
  const web = await startWebServer(
    {
      config,
      cases,
      links: new LinkSealer(config.linkKeys),
      logger: log,
      limits: { api: { limit: 1_000_000, windowMs: 60_000 } },
    },
    0,
    '127.0.0.1',
  );
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void web
      .stop()
      .then(() => temporal.close())
      .then(() => process.exit(0));
  };
  // The benchmark went away without saying stop (interrupted, killed): stop too, never linger.
  process.on('disconnect', stop);
  process.on('message', (m: ToWorker) => {
    if (m.type === 'stop') stop();
    if (m.type === 'stats') {
      const cpu = process.cpuUsage();
      const mem = process.memoryUsage();
      send({ type: 'stats', id: m.id, rss: mem.rss, heapUsed: mem.heapUsed, cpuMs: (cpu.user + cpu.system) / 1000 });
    }
  });
  send({ type: 'ready', port: web.port });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench web failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
