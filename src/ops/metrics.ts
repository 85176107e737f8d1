/**
 * The app's own Prometheus metrics (prom-client), one registry per process: the web app and the
 * worker each serve theirs on `/metrics`. Every name starts `shortnotice_`; every label takes a
 * value from a short fixed list (a route pattern, a channel, a team, an owner), never a case id,
 * a URL, an address or a name, so no series can carry personal data and their number stays bounded.
 *
 * Three sources feed them:
 * - events in this process: HTTP requests, submissions and refusals (web), message sends and
 *   failures (worker), bounces (the bounce hook on the web app);
 * - the readiness checks (src/ops/health.ts), as one gauge per check;
 * - visibility counts over the case search attributes (src/ops/case-gauges.ts): open obligations
 *   by owner, how overdue, escalations waiting for acknowledgement.
 * Escalations opened, delivered, acknowledged and late are counted inside the workflow and
 * exported by the worker's Temporal runtime (workflows/case/metrics.ts says why).
 */
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const CHANNELS = ['email', 'sms'] as const;
export type Channel = (typeof CHANNELS)[number];
export const MESSAGE_OUTCOMES = ['sent', 'failed'] as const;
export const SUBMISSION_OUTCOMES = ['started', 'duplicate'] as const;
export const SUBMISSION_ROUTES = ['form', 'api'] as const;

export interface AppMetrics {
  registry: Registry;
  http: Histogram<'method' | 'route' | 'status'>;
  submissions: Counter<'outcome'>;
  refusals: Counter<'via' | 'status'>;
  messages: Counter<'channel' | 'outcome'>;
  bounces: Counter<'channel'>;
  /** One per readiness check: 1 when it passed last time it ran, 0 when it failed. */
  check: Gauge<'check'>;
}

/**
 * A fresh registry with the app's metrics and Node's process metrics (process_*, nodejs_*). Counters
 * with a fixed label set start at zero, so a rate over the first failure is not lost (a series that
 * appears at 1 has no earlier sample to increase from).
 */
export function createMetrics(service: 'web' | 'worker'): AppMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const metrics: AppMetrics = {
    registry,
    http: new Histogram({
      name: 'shortnotice_http_request_duration_seconds',
      help: 'HTTP requests to the web app by method, route pattern (never the URL) and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    submissions: new Counter({
      name: 'shortnotice_submissions_total',
      help: 'Cancelled sessions submitted (form or API): a case started, or a duplicate that found its case',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    refusals: new Counter({
      name: 'shortnotice_submission_refusals_total',
      help: 'Submissions refused before any case started (invalid, not allowed, wrong format), by route and status',
      labelNames: ['via', 'status'],
      registers: [registry],
    }),
    messages: new Counter({
      name: 'shortnotice_messages_total',
      help: 'Send attempts by channel: sent (the relay or Notify accepted it) or failed (each failed attempt)',
      labelNames: ['channel', 'outcome'],
      registers: [registry],
    }),
    bounces: new Counter({
      name: 'shortnotice_message_bounces_total',
      help: 'Messages reported undeliverable after acceptance: email bounces posted to the hook, texts Notify failed',
      labelNames: ['channel'],
      registers: [registry],
    }),
    check: new Gauge({
      name: 'shortnotice_readiness_check',
      help: 'Readiness checks: 1 when the check passed when it last ran, 0 when it failed',
      labelNames: ['check'],
      registers: [registry],
    }),
  };
  // Each process starts the series it feeds: the web app takes submissions and email bounces (the
  // hook), the worker sends and follows texts.
  if (service === 'web') {
    for (const outcome of SUBMISSION_OUTCOMES) metrics.submissions.inc({ outcome }, 0);
    metrics.bounces.inc({ channel: 'email' }, 0);
  } else {
    metrics.bounces.inc({ channel: 'sms' }, 0);
    for (const channel of CHANNELS)
      for (const outcome of MESSAGE_OUTCOMES) metrics.messages.inc({ channel, outcome }, 0);
  }
  return metrics;
}

/** The route a request matched, as its pattern (`/c/:token`), or a fixed word when none did. */
export function routeLabel(req: Request): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof pattern === 'string') return `${req.baseUrl}${pattern}`;
  // Static assets are many files but one route; anything else unmatched is one label too.
  if (req.originalUrl.startsWith('/assets/')) return '/assets';
  return 'unmatched';
}

/** Submissions arrive on these two routes; a 4xx there is a refusal. */
const SUBMISSION_ROUTE: Record<string, (typeof SUBMISSION_ROUTES)[number]> = {
  'POST /cancellations': 'form',
  'POST /api/cancellations': 'api',
};

/**
 * Times each request and counts it by route pattern and status once the response is finished;
 * a refused submission is counted as a refusal as well.
 */
export function httpMetrics(metrics: AppMetrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const end = metrics.http.startTimer();
    res.once('finish', () => {
      const route = routeLabel(req);
      const status = String(res.statusCode);
      end({ method: KNOWN_METHODS.has(req.method) ? req.method : 'other', route, status });
      const via = SUBMISSION_ROUTE[`${req.method} ${route}`];
      if (via && res.statusCode >= 400 && res.statusCode < 500) metrics.refusals.inc({ via, status });
    });
    next();
  };
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'OPTIONS', 'PUT', 'PATCH', 'DELETE']);

/** The registry in Prometheus's text format, for a `/metrics` route. */
export async function metricsText(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
