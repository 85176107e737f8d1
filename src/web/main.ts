/**
 * Process entry for `npm run web`: config once, one Temporal connection, the app on a port,
 * and a clean stop on SIGINT/SIGTERM. `startWebServer` is exported so tests own the lifecycle.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAudit, fileAuditSink } from '../audit';
import { CaseService } from '../cases';
import { loadConfigOrExit, warnAboutDevelopmentKeys } from '../config';
import { LinkSealer } from '../links';
import { createLogger, type Logger } from '../log';
import { createCaseGauges } from '../ops/case-gauges';
import { Readiness, standardChecks } from '../ops/health';
import { createMetrics } from '../ops/metrics';
import { connectTemporal } from '../temporal/client';
import { startTracing } from '../tracing';
import { createApp, type AppDeps } from './app';
import { directoryMailbox } from './mailbox';

export interface WebServer {
  server: Server;
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** Starts the app on `port` (0 for any free port) and resolves once it is listening. */
export async function startWebServer(deps: AppDeps, port: number, host?: string): Promise<WebServer> {
  const app = createApp(deps);
  const server = await new Promise<Server>((resolve, reject) => {
    const done = (err?: Error) => (err ? reject(err) : resolve(s));
    const s = host ? app.listen(port, host, done) : app.listen(port, done);
    s.once('error', reject);
  });
  // Keep-alive sockets would otherwise hold a stop open for the idle timeout.
  server.keepAliveTimeout = 5_000;
  // Node's parser rejects a method it does not know before Express sees it: say 501, not 400.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = err.code === 'HPE_INVALID_METHOD' ? '501 Not Implemented' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    url: `http://localhost:${actual}`,
    stop: () => stopWebServer(server),
  };
}

export function stopWebServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeIdleConnections();
  });
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log: Logger = createLogger({ level: config.logLevel, base: { service: 'web' } });
  warnAboutDevelopmentKeys(config, log);
  // Before the Temporal client exists, so its interceptor finds the provider.
  const tracing = config.tracing && startTracing({ endpoint: config.tracing.endpoint, serviceName: 'shortnotice-web' });
  const temporal = await connectTemporal(config).catch((err: unknown) => {
    throw new Error(`cannot reach Temporal at ${config.temporal.address} (${err instanceof Error ? err.message : String(err)}); is the server running?`);
  });
  const metrics = createMetrics('web');
  const cases = new CaseService({
    client: temporal.client,
    taskQueue: config.temporal.taskQueue,
    policy: config.policy,
    recordsMode: config.records.mode,
    caseIdKey: config.caseIdKey,
    onSubmitted: (outcome) => metrics.submissions.inc({ outcome }),
  });
  const ops = {
    metrics,
    readiness: new Readiness(standardChecks(config, temporal.client), metrics),
    caseGauges: createCaseGauges({
      client: temporal.client,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      policy: config.policy,
      metrics,
    }),
  };
  const devMailbox = !config.mail.smtpUrl && config.env !== 'production';
  const web = await startWebServer(
    {
      config,
      cases,
      links: new LinkSealer(config.linkKeys),
      mailbox: devMailbox ? directoryMailbox(config.mail.mailboxDir) : undefined,
      logger: log,
      audit: createAudit(fileAuditSink(config.audit.file)),
      ops,
    },
    config.port,
    config.bindAddress,
  );
  log.info(
    {
      event: 'listening',
      url: web.url,
      bindAddress: config.bindAddress ?? 'all interfaces',
      publicBaseUrl: config.publicBaseUrl,
      auth: config.auth.mode,
      traces: tracing !== undefined,
    },
    `shortnotice web listening on ${web.url}`,
  );
  if (config.auth.mode === 'dev') log.warn({ event: 'dev-sign-in' }, 'development sign-in is on: anyone can sign in as anyone (never in production)');
  if (devMailbox) log.info({ event: 'dev-mailbox' }, `development mailbox: ${web.url}/dev/mailbox`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ event: 'stopping', signal }, 'stopping');
    web
      .stop()
      .then(() => temporal.close())
      .then(() => tracing?.shutdown())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ event: 'stop-failed', err }, 'stop failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    createLogger({ base: { service: 'web' } }).fatal({ event: 'start-failed', err }, 'shortnotice web failed to start');
    process.exit(1);
  });
}
