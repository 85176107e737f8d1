/**
 * Liveness and readiness, for the web app and the worker alike.
 *
 * `/healthz` says the process is alive and answers HTTP; it checks nothing else, so an orchestrator
 * never restarts a healthy process because Temporal or SMTP is down. `/readyz` runs the checks:
 * Temporal answers within a short timeout, some worker polls the task queue (DescribeTaskQueue),
 * SMTP accepts a connection and login (nodemailer's verify), and the GOV.UK Notify key is usable.
 * Its JSON names each check and what failed, in fixed words: never a URL, an address or a key.
 *
 * Results are cached briefly: probes from compose, a load balancer and Prometheus's scrapes must not
 * turn into a stream of calls to Temporal or a connection to the relay each.
 */
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import nodemailer from 'nodemailer';
import type { Config } from '../config';
import { parseNotifyApiKey } from '../sms/jwt';
import { metricsText, type AppMetrics } from './metrics';

/** A check resolves with nothing when it passes, or a short problem in fixed words. */
export interface ReadinessCheck {
  name: string;
  run(): Promise<string | undefined>;
}

export interface CheckOutcome {
  ok: boolean;
  problem?: string;
}

export interface ReadinessReport {
  status: 'ready' | 'not ready';
  checks: Record<string, CheckOutcome>;
}

/** How long one check may take before it counts as failed. */
const CHECK_TIMEOUT_MS = 2_000;
/** How long a whole readiness result is reused. */
const READINESS_CACHE_MS = 5_000;
/** How long an SMTP verify is reused: each one opens a connection to the relay and logs in. */
const SMTP_CACHE_MS = 30_000;
/**
 * A worker's long poll lasts up to about a minute and the server records when each poll began, so a
 * live worker's last poll can be that old; one not seen for longer has stopped (the server itself
 * forgets pollers only after five minutes).
 */
export const POLLER_FRESH_MS = 90_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** An error in fixed words: its code (ECONNREFUSED, EAUTH) or reply, never its message (it may quote a host or user). */
function errorWords(err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; responseCode?: unknown };
  if (typeof e.responseCode === 'number') return `reply ${e.responseCode}`;
  if (typeof e.code === 'string' && /^[A-Z_]{2,32}$/.test(e.code)) return e.code;
  if (typeof e.code === 'number') return `gRPC status ${e.code}`;
  return 'failed';
}

export class Readiness {
  private cached?: { at: number; report: Promise<ReadinessReport> };

  constructor(
    private readonly checks: ReadinessCheck[],
    private readonly metrics?: AppMetrics,
    private readonly now: () => number = Date.now,
  ) {
    for (const c of checks) metrics?.check.set({ check: c.name }, 0);
  }

  /** Runs every check side by side (or reuses a result younger than a few seconds). */
  evaluate(): Promise<ReadinessReport> {
    const now = this.now();
    if (this.cached && now - this.cached.at < READINESS_CACHE_MS) return this.cached.report;
    const report = this.run();
    this.cached = { at: now, report };
    return report;
  }

  private async run(): Promise<ReadinessReport> {
    const outcomes = await Promise.all(
      this.checks.map(async (c): Promise<[string, CheckOutcome]> => {
        let problem: string | undefined;
        try {
          problem = await withTimeout(c.run(), CHECK_TIMEOUT_MS, c.name);
        } catch (err) {
          problem = err instanceof Error && / did not answer within /.test(err.message) ? err.message : errorWords(err);
        }
        this.metrics?.check.set({ check: c.name }, problem ? 0 : 1);
        return [c.name, problem ? { ok: false, problem } : { ok: true }];
      }),
    );
    const checks = Object.fromEntries(outcomes);
    return { status: outcomes.every(([, o]) => o.ok) ? 'ready' : 'not ready', checks };
  }
}

/** Temporal answers (GetSystemInfo) within the check's timeout. */
export function temporalCheck(client: Client): ReadinessCheck {
  return {
    name: 'temporal',
    async run() {
      await client.connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
        client.workflowService.getSystemInfo({}),
      );
      return undefined;
    },
  };
}

/** How many pollers of each kind the server saw on the task queue within POLLER_FRESH_MS. */
export async function livePollers(
  client: Client,
  namespace: string,
  taskQueue: string,
  now = Date.now(),
): Promise<{ workflow: number; activity: number }> {
  const count = async (taskQueueType: 1 | 2) => {
    const res = await client.connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
      client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType }),
    );
    return (res.pollers ?? []).filter((p) => {
      const seconds = Number(p.lastAccessTime?.seconds ?? 0);
      return now - seconds * 1000 < POLLER_FRESH_MS;
    }).length;
  };
  // 1: TASK_QUEUE_TYPE_WORKFLOW, 2: TASK_QUEUE_TYPE_ACTIVITY.
  const [workflow, activity] = await Promise.all([count(1), count(2)]);
  return { workflow, activity };
}

/** Some worker polls the task queue for workflow tasks and for activity tasks. */
export function pollersCheck(client: Client, namespace: string, taskQueue: string): ReadinessCheck {
  return {
    name: 'pollers',
    async run() {
      const live = await livePollers(client, namespace, taskQueue);
      if (live.workflow === 0 && live.activity === 0) return 'no worker polls the task queue';
      if (live.workflow === 0) return 'no worker polls the task queue for workflow tasks';
      if (live.activity === 0) return 'no worker polls the task queue for activity tasks';
      return undefined;
    },
  };
}

/**
 * SMTP accepts a connection, greeting and login (nodemailer verify, on a connection of its own, not
 * the sending pool), reused for 30 s. Without SMTP_URL: the development mailbox outside production;
 * in production every email would fail, so the check fails.
 */
export function smtpCheck(config: Config, now: () => number = Date.now): ReadinessCheck {
  let last: { at: number; result: Promise<string | undefined> } | undefined;
  const verify = async (url: string): Promise<string | undefined> => {
    const transport = nodemailer.createTransport({
      url,
      connectionTimeout: CHECK_TIMEOUT_MS,
      greetingTimeout: CHECK_TIMEOUT_MS,
      socketTimeout: CHECK_TIMEOUT_MS,
    });
    try {
      await transport.verify();
      return undefined;
    } catch (err) {
      return `SMTP refused or unreachable (${errorWords(err)})`;
    } finally {
      transport.close();
    }
  };
  return {
    name: 'smtp',
    run() {
      const url = config.mail.smtpUrl;
      if (!url) return Promise.resolve(config.env === 'production' ? 'SMTP_URL is not set' : undefined);
      const t = now();
      if (!last || t - last.at >= SMTP_CACHE_MS) last = { at: t, result: verify(url) };
      return last.result;
    },
  };
}

/**
 * GOV.UK Notify: a configured key must have Notify's shape, so each text can be signed. Notify is
 * not called (that would be a request to a paid service per probe); a refused key shows as failed
 * sends instead. Not configured is ready: a deployment may have no text-message clients.
 */
export function notifyCheck(config: Config): ReadinessCheck {
  return {
    name: 'notify',
    run() {
      const notify = config.sms.notify;
      if (!notify) return Promise.resolve(undefined);
      try {
        parseNotifyApiKey(notify.apiKey);
        return Promise.resolve(undefined);
      } catch {
        return Promise.resolve('NOTIFY_API_KEY is not a GOV.UK Notify API key');
      }
    },
  };
}

/** The checks both processes run; the worker adds its own state. */
export function standardChecks(config: Config, client: Client): ReadinessCheck[] {
  return [
    temporalCheck(client),
    pollersCheck(client, config.temporal.namespace, config.temporal.taskQueue),
    smtpCheck(config),
    notifyCheck(config),
  ];
}

export interface HealthServer {
  server: Server;
  port: number;
  stop(): Promise<void>;
}

/**
 * The worker's small HTTP server: /healthz, /readyz and /metrics, nothing else, no logging per
 * request. Node's http module suffices for three fixed GET routes (no framework to keep up to date).
 */
export async function startHealthServer(o: {
  port: number;
  host?: string;
  readiness: Readiness;
  metrics: AppMetrics;
  /** Refreshes gauges before a scrape (the readiness gauge, say). */
  beforeScrape?: () => Promise<unknown>;
}): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'Method not allowed');
    if (path === '/healthz') return send(200, 'application/json', JSON.stringify({ ok: true }));
    if (path === '/readyz') {
      o.readiness.evaluate().then(
        (r) => send(r.status === 'ready' ? 200 : 503, 'application/json', JSON.stringify(r)),
        () => send(503, 'application/json', JSON.stringify({ status: 'not ready', checks: {} })),
      );
      return;
    }
    if (path === '/metrics') {
      Promise.resolve(o.beforeScrape?.())
        .catch(() => undefined)
        .then(() => metricsText(o.metrics.registry))
        .then(
          (m) => send(200, m.contentType, m.body),
          () => send(500, 'text/plain', 'metrics unavailable'),
        );
      return;
    }
    send(404, 'text/plain', 'Not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  server.keepAliveTimeout = 5_000;
  return {
    server,
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
