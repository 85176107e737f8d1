/**
 * Process entry for `npm run web`: config once, one Temporal connection, the app on a port,
 * and a clean stop on SIGINT/SIGTERM. `startWebServer` is exported so tests own the lifecycle.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CaseService } from '../cases';
import { loadConfigOrExit } from '../config';
import { LinkSealer } from '../links';
import { connectTemporal } from '../temporal/client';
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
  const temporal = await connectTemporal(config).catch((err: unknown) => {
    throw new Error(`cannot reach Temporal at ${config.temporal.address} (${err instanceof Error ? err.message : String(err)}); is the server running?`);
  });
  const cases = new CaseService({
    client: temporal.client,
    taskQueue: config.temporal.taskQueue,
    policy: config.policy,
    recordsMode: config.records.mode,
    idKey: config.linkKeys[0]!.key,
  });
  const devMailbox = !config.mail.smtpUrl && config.env !== 'production';
  const web = await startWebServer(
    {
      config,
      cases,
      links: new LinkSealer(config.linkKeys),
      mailbox: devMailbox ? directoryMailbox(config.mail.mailboxDir) : undefined,
    },
    config.port,
  );
  console.log(`shortnotice web listening on ${web.url} (public address ${config.publicBaseUrl})`);
  if (devMailbox) console.log(`development mailbox: ${web.url}/dev/mailbox`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`shortnotice web: ${signal} received, stopping`);
    web
      .stop()
      .then(() => temporal.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          console.error(`shortnotice web: stop failed: ${err instanceof Error ? err.message : String(err)}`);
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`shortnotice web failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
