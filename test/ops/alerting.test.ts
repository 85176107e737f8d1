/**
 * Every alert rule fires for real, and none fires while all is well. The stack is the real one:
 * the Temporal dev server, `worker.ts` and `src/web/main.ts` as processes of their own (as `npm start`
 * runs them), a real SMTP server on loopback that can be told to refuse, a stand-in for GOV.UK Notify
 * that answers 500, and Debian's Prometheus scraping the web app's /metrics, the worker's health
 * port and the worker's Temporal runtime, evaluating deploy/prometheus/alerts.yml every second.
 *
 * The rule file is the shipped one with only its `for:` durations shortened to a second, so a run
 * takes minutes, not hours; the policy's windows are seconds for the same reason (POLICY_JSON).
 * Scenarios run in order on one stack:
 *   O0 all is well: a case is submitted and its email sent, and no alert is pending or firing;
 *   O1 the worker is stopped: ShortnoticeWorkerWithoutPollers;
 *   O6 a case submitted meanwhile is never contacted: ShortnoticeObligationOverdue (owner none);
 *   O2 the worker comes back to tasks that waited: ShortnoticeScheduleToStartHigh, pollers back;
 *   O3 SMTP refuses every message: ShortnoticeSmtpFailing;
 *   O4 Notify answers 500 to every text: ShortnoticeNotifyFailing;
 *   O5 a risk alert is left unacknowledged past a 4-second window: ShortnoticeRiskAlertUnacknowledged.
 * Then the dashboard's queries are run against this Prometheus, and every metric they name must be
 * in what the processes serve.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parse, stringify } from 'yaml';
import { launchChromium } from '../helpers/browser';
import { json, startHttpPeer, type HttpPeer } from '../helpers/http-peer';
import { SHOTS } from '../helpers/pages';
import { freePort } from '../../src/dev/binaries';
import { startPrometheus, type AlertState, type PrometheusServer } from '../helpers/prometheus';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { createDevServerEnv } from '../helpers/temporal';
import { dashboardQueries, metricNamesIn } from './dashboard-queries';

const ROOT = path.join(__dirname, '..', '..');
const API_TOKEN = 'alerting-test-api-token-0123456789abcdefgh';
const NOTIFY_KEY = 'alerting-test-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0';
const DAY = 86_400_000;

let temporal: TestWorkflowEnvironment;
let smtp: SmtpSink;
let notify: HttpPeer;
let prometheus: PrometheusServer;
let tmp: string;
let env: NodeJS.ProcessEnv;
let ports: { web: number; health: number; sdk: number };
let worker: Proc | undefined;
let web: Proc | undefined;

interface Proc {
  child: ChildProcess;
  output(): string;
  exited: Promise<void>;
}

/** Runs a TypeScript entry point with tsx in its own process group (tsx runs it in a grandchild). */
function run(entry: string): Proc {
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), entry], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  return { child, output: () => out, exited: new Promise((resolve) => child.once('exit', () => resolve())) };
}

async function stop(p: Proc | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  process.kill(-p.child.pid!, 'SIGTERM');
  const timer = setTimeout(() => process.kill(-p.child.pid!, 'SIGKILL'), 15_000);
  await p.exited;
  clearTimeout(timer);
}

async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  context = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const found = await probe();
      if (found !== undefined) return found;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what} did not happen within ${timeoutMs / 1000} s${last ? ` (${String(last)})` : ''}\n${context()}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function ready(url: string, p: () => Proc | undefined): Promise<void> {
  await waitUntil(
    `${url} ready`,
    async () => ((await fetch(url, { signal: AbortSignal.timeout(3000) })).status === 200 ? true : undefined),
    120_000,
    () => p()?.output().slice(-3000) ?? '',
  );
}

const firing = (alerts: AlertState[], name: string, labels: Record<string, string> = {}) =>
  alerts.filter(
    (a) =>
      a.labels.alertname === name &&
      a.state === 'firing' &&
      Object.entries(labels).every(([k, v]) => a.labels[k] === v),
  );

/** Resolves once Prometheus shows the alert firing (with these labels). */
async function fires(name: string, labels: Record<string, string> = {}, timeoutMs = 60_000): Promise<AlertState> {
  let seen: AlertState[] = [];
  return waitUntil(
    `${name} ${JSON.stringify(labels)} firing`,
    async () => {
      seen = await prometheus.alerts();
      return firing(seen, name, labels)[0];
    },
    timeoutMs,
    () => `alerts now: ${JSON.stringify(seen.map((a) => [a.labels.alertname, a.state, a.labels]))}`,
  );
}

function submission(kind: 'email' | 'sms', opts: { risk?: boolean } = {}) {
  const n = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const client =
    kind === 'email'
      ? { ref: `C-${n}`, firstName: 'Sam', preferredContact: 'email', email: `sam.${n}@example.org` }
      : { ref: `C-${n}`, firstName: 'Sam', preferredContact: 'sms', phone: '+447700900123' };
  return {
    therapist: { id: 'T-4242', name: 'Alex Morgan', email: 'alex@example.org' },
    reason: 'illness',
    sessions: [
      {
        id: `S-${n}`,
        startsAt: new Date(Date.now() + 2 * DAY).toISOString(),
        client,
        rebook: { slots: [new Date(Date.now() + 4 * DAY).toISOString()] },
        ...(opts.risk ? { risk: { concern: true, note: 'said they feel unsafe' } } : {}),
      },
    ],
  };
}

async function submit(kind: 'email' | 'sms', opts: { risk?: boolean } = {}): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${ports.web}/api/cancellations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
    body: JSON.stringify(submission(kind, opts)),
  });
  expect(res.status).toBe(201);
}

/** The value of a PromQL expression that returns one sample (0 when it returns none). */
async function value(expr: string): Promise<number> {
  const result = (await prometheus.query(expr)) as { value: [number, string] }[];
  return result.length === 0 ? 0 : Number(result[0]!.value[1]);
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shortnotice-alerting-'));
  temporal = await createDevServerEnv();
  smtp = await startSmtpSink();
  notify = await startHttpPeer((_req, res) =>
    json(res, 500, { errors: [{ error: 'Exception', message: 'Internal server error' }] }),
  );
  ports = { web: await freePort(), health: await freePort(), sdk: await freePort() };
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'alerting-test',
    PORT: String(ports.web),
    PUBLIC_BASE_URL: `http://127.0.0.1:${ports.web}`,
    WORKER_HEALTH_PORT: String(ports.health),
    WORKER_SDK_METRICS_PORT: String(ports.sdk),
    SMTP_URL: smtp.url,
    NOTIFY_API_KEY: NOTIFY_KEY,
    NOTIFY_SMS_TEMPLATE_ID: 'f33517ff-2a88-4f6e-b855-c550268ce08a',
    NOTIFY_BASE_URL: notify.url,
    API_TOKENS: `alerting:${API_TOKEN}:submit+read`,
    // Seconds instead of hours: a case not contacted is due in 3 s, late 2 s after that; a risk
    // alert must be acknowledged within 4 s.
    POLICY_JSON: JSON.stringify({ contactWithinMs: 3000, lateMarginMs: 2000, riskAckWindowMs: 4000 }),
    AUDIT_LOG_FILE: path.join(tmp, 'audit.jsonl'),
    MAILBOX_DIR: path.join(tmp, 'mailbox'),
  };
  worker = run('worker.ts');
  web = run(path.join('src', 'web', 'main.ts'));
  await ready(`http://127.0.0.1:${ports.web}/healthz`, () => web);
  await ready(`http://127.0.0.1:${ports.health}/readyz`, () => worker);

  // The shipped rules with `for:` cut to a second; everything else as it is.
  const rules = parse(fs.readFileSync(path.join(ROOT, 'deploy', 'prometheus', 'alerts.yml'), 'utf8')) as {
    groups: { rules: { for?: string }[] }[];
  };
  for (const rule of rules.groups.flatMap((g) => g.rules)) if (rule.for) rule.for = '1s';
  const target = (job: string, port: number) => ({
    job_name: job,
    static_configs: [{ targets: [`127.0.0.1:${port}`] }],
  });
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: ['alerts.yml'],
    scrape_configs: [
      target('shortnotice-web', ports.web),
      target('shortnotice-worker', ports.health),
      target('shortnotice-worker-sdk', ports.sdk),
    ],
  };
  prometheus = await startPrometheus(stringify(config), { 'alerts.yml': stringify(rules) });
}, 240_000);

afterAll(async () => {
  await Promise.all([stop(web), stop(worker)]);
  await prometheus?.stop();
  await notify?.close();
  await smtp?.close();
  await temporal?.teardown();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('alerts against the running app', () => {
  test('O0 all is well: a case runs, its email is sent and counted, a refused submission is counted, and no alert is pending or firing', async () => {
    await waitUntil('every target up', async () => ((await value('count(up == 1)')) === 3 ? true : undefined), 30_000);
    const refused = await fetch(`http://127.0.0.1:${ports.web}/api/cancellations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
      body: JSON.stringify({ therapist: { id: 'T-4242' } }),
    });
    expect(refused.status).toBe(400);
    await submit('email');
    await smtp.waitFor((m) => m.envelope.to.some((t) => t.startsWith('sam.')), 60_000);
    await waitUntil(
      'the submission and the send counted',
      async () => {
        const started = await value('sum(shortnotice_submissions_total{outcome="started"})');
        const sent = await value('sum(shortnotice_messages_total{channel="email",outcome="sent"})');
        const refusals = await value('sum(shortnotice_submission_refusals_total{via="api",status="400"})');
        return started === 1 && sent >= 1 && refusals === 1 ? true : undefined;
      },
      30_000,
    );
    // Several evaluations of every rule on a healthy stack.
    await new Promise((r) => setTimeout(r, 6000));
    expect((await prometheus.alerts()).map((a) => [a.labels.alertname, a.state])).toEqual([]);
    expect(await value('max(shortnotice_task_queue_pollers{kind="workflow"})')).toBeGreaterThan(0);
  });

  test('O1 the worker is stopped, then ShortnoticeWorkerWithoutPollers fires; O6 a case submitted meanwhile turns overdue, then ShortnoticeObligationOverdue fires for owner none', async () => {
    await stop(worker);
    const stoppedAt = Date.now();
    await submit('email');
    const pollers = await fires('ShortnoticeWorkerWithoutPollers');
    expect(pollers.labels.severity).toBe('page');
    // Due 3 s after submission, late 2 s after that, counted within 5 s.
    const overdue = await fires('ShortnoticeObligationOverdue', { owner: 'none' });
    expect(Number(overdue.value)).toBeGreaterThanOrEqual(1);
    // The case's first workflow task must have waited well beyond the 5 s bound for O2.
    const waited = Date.now() - stoppedAt;
    if (waited < 12_000) await new Promise((r) => setTimeout(r, 12_000 - waited));
  });

  test('O2 the worker comes back to tasks that waited, then ShortnoticeScheduleToStartHigh fires and ShortnoticeWorkerWithoutPollers stops', async () => {
    worker = run('worker.ts');
    await ready(`http://127.0.0.1:${ports.health}/readyz`, () => worker);
    const slow = await fires('ShortnoticeScheduleToStartHigh', { task: 'workflow' });
    expect(Number(slow.value)).toBeGreaterThan(5);
    await waitUntil(
      'ShortnoticeWorkerWithoutPollers resolved',
      async () =>
        firing(await prometheus.alerts(), 'ShortnoticeWorkerWithoutPollers').length === 0 ? true : undefined,
      30_000,
    );
  });

  test('O3 SMTP refuses every message, then ShortnoticeSmtpFailing fires', async () => {
    smtp.refuseAll(451);
    try {
      for (let i = 0; i < 3; i++) await submit('email');
      await fires('ShortnoticeSmtpFailing');
      expect(await value('sum(shortnotice_messages_total{channel="email",outcome="failed"})')).toBeGreaterThanOrEqual(
        3,
      );
    } finally {
      smtp.refuseAll(undefined);
    }
  });

  test('O4 GOV.UK Notify answers 500 to every text, then ShortnoticeNotifyFailing fires', async () => {
    for (let i = 0; i < 3; i++) await submit('sms');
    await fires('ShortnoticeNotifyFailing');
    expect(await value('sum(shortnotice_messages_total{channel="sms",outcome="sent"})')).toBe(0);
    expect(notify.requests.length).toBeGreaterThanOrEqual(3);
  });

  test('O5 a risk alert is left unacknowledged past its window, then ShortnoticeRiskAlertUnacknowledged fires, with the escalation counted opened and late', async () => {
    await submit('email', { risk: true });
    const alert = await fires('ShortnoticeRiskAlertUnacknowledged');
    expect(Number(alert.value)).toBe(1);
    await waitUntil(
      'the escalation counted opened and late by the workflow',
      async () => {
        const opened = await value('sum(shortnotice_escalations_opened_total{team="risk"})');
        const late = await value('sum(shortnotice_escalations_late_total{team="risk"})');
        return opened >= 1 && late >= 1 ? true : undefined;
      },
      30_000,
    );
    // What the on-call engineer sees: Prometheus's own alerts page, with the rule firing (Debian's
    // build serves the classic UI only, under /classic).
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${prometheus.url}/classic/alerts`);
      await expect(page.locator('body').innerText()).resolves.toMatch(/ShortnoticeRiskAlertUnacknowledged \(1 active\)/);
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, 'o5-prometheus-alerts-1280.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  test("the dashboard: every panel's query parses in Prometheus, and every metric it names is served by the web app or the worker", async () => {
    const queries = dashboardQueries(path.join(ROOT, 'deploy', 'grafana', 'shortnotice.json'));
    expect(queries.length).toBeGreaterThanOrEqual(10);
    for (const q of queries) {
      // Grafana's $__rate_interval is Grafana's to fill in; Prometheus gets a plain window.
      await expect(prometheus.query(q.expr.replace(/\$__rate_interval/g, '1m'))).resolves.toBeDefined();
    }
    const served = new Set<string>(['up']);
    for (const port of [ports.web, ports.health, ports.sdk]) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const [, name] of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{| )/gm)) served.add(name!);
    }
    const named = [...new Set(queries.flatMap((q) => metricNamesIn(q.expr)))];
    expect(named.length).toBeGreaterThanOrEqual(10);
    expect(named.filter((n) => !served.has(n))).toEqual([]);
  });
});
