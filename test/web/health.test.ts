/**
 * /healthz, /readyz and /metrics on the web app, in-process: what a probe and a scrape get, that no
 * secret or personal detail reaches either, and that requests are counted by route pattern.
 * test/ops/alerting.test.ts drives the same routes on the real processes.
 */
import request from 'supertest';
import { Readiness } from '../../src/ops/health';
import { createMetrics } from '../../src/ops/metrics';
import { createApp } from '../../src/web/app';
import { API_TOKEN, makeDeps, validSubmission } from './fakes';

const SMTP_SECRET = 'hunter2-smtp-password';

function appWith(checks: { name: string; problem?: string }[]) {
  const d = makeDeps();
  const metrics = createMetrics('web');
  const readiness = new Readiness(
    checks.map((c) => ({ name: c.name, run: () => Promise.resolve(c.problem) })),
    metrics,
  );
  return { ...d, metrics, app: createApp({ ...d.deps, ops: { metrics, readiness } }) };
}

describe('web app health and metrics', () => {
  it('when every check passes, then /readyz answers 200 naming each check, and /healthz 200', async () => {
    const { app } = appWith([{ name: 'temporal' }, { name: 'pollers' }, { name: 'smtp' }, { name: 'notify' }]);
    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body).toEqual({
      status: 'ready',
      checks: { temporal: { ok: true }, pollers: { ok: true }, smtp: { ok: true }, notify: { ok: true } },
    });
    await request(app).get('/healthz').expect(200, { ok: true });
  });

  it('when no worker polls, then /readyz answers 503 naming that check, and /metrics shows it at 0', async () => {
    const { app } = appWith([{ name: 'temporal' }, { name: 'pollers', problem: 'no worker polls the task queue' }]);
    const res = await request(app).get('/readyz').expect(503);
    expect(res.body).toEqual({
      status: 'not ready',
      checks: { temporal: { ok: true }, pollers: { ok: false, problem: 'no worker polls the task queue' } },
    });
    const metrics = await request(app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^shortnotice_readiness_check\{check="pollers",service="web"\} 0$/m);
    expect(metrics.text).toMatch(/^shortnotice_readiness_check\{check="temporal",service="web"\} 1$/m);
  });

  it('when a check throws with a secret in its message, then /readyz shows fixed words only', async () => {
    const d = makeDeps();
    const metrics = createMetrics('web');
    const readiness = new Readiness(
      [
        {
          name: 'smtp',
          run: () => Promise.reject(Object.assign(new Error(`login ${SMTP_SECRET} refused`), { code: 'EAUTH' })),
        },
      ],
      metrics,
    );
    const app = createApp({ ...d.deps, ops: { metrics, readiness } });
    const res = await request(app).get('/readyz').expect(503);
    expect(res.body.checks).toEqual({ smtp: { ok: false, problem: 'EAUTH' } });
    expect(res.text).not.toContain(SMTP_SECRET);
  });

  it('when a client link and a refused submission are requested, then /metrics counts them by route pattern and status, never the token', async () => {
    const { app } = appWith([{ name: 'temporal' }]);
    const token = 'SEALED-TOKEN-abcdefghijklmnop';
    await request(app).get(`/c/${token}`);
    await request(app)
      .post('/api/cancellations')
      .set('Authorization', `Bearer ${API_TOKEN}`)
      .send(validSubmission({ reason: 'not-a-reason' }))
      .expect(400);
    const res = await request(app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/shortnotice_http_request_duration_seconds_count\{[^}]*route="\/c\/:token"[^}]*\} 1/);
    expect(res.text).toMatch(
      /shortnotice_http_request_duration_seconds_count\{[^}]*method="POST",route="\/api\/cancellations",status="400"\} 1/,
    );
    expect(res.text).toMatch(/^shortnotice_submission_refusals_total\{via="api",status="400",service="web"\} 1$/m);
    expect(res.text).not.toContain(token);
    expect(res.text).not.toContain('sam@example.org');
  });

  it('when Prometheus scrapes by address (another Host), then /metrics and /readyz answer while pages are refused 421', async () => {
    const { app } = appWith([{ name: 'temporal' }]);
    await request(app).get('/metrics').set('Host', 'web-1:3000').expect(200);
    await request(app).get('/readyz').set('Host', 'web-1:3000').expect(200);
    await request(app).get('/cancellations/new').set('Host', 'web-1:3000').expect(421);
  });

  it('when the app is built without ops, then /readyz and /metrics are not there and /healthz still is', async () => {
    const d = makeDeps();
    const app = createApp(d.deps);
    await request(app).get('/healthz').expect(200);
    await request(app).get('/metrics').expect(404);
  });
});
