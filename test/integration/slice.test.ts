/**
 * The thin vertical slice with real parts: the Temporal dev server, the worker with the real
 * activities, the web app over HTTP, and a real SMTP server on loopback.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CaseService } from '../../src/cases';
import { loadConfig, type Config } from '../../src/config';
import { LinkSealer } from '../../src/links';
import { createApp } from '../../src/web/app';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { createDevServerEnv } from '../helpers/temporal';
import { runRealWorker } from '../helpers/case-worker';

let env: TestWorkflowEnvironment;
let smtp: SmtpSink;
let server: Server;
let baseUrl: string;
let config: Config;
let stopWorker: () => Promise<void>;

/** The JSON API's callers present a bearer token from API_TOKENS. */
const API_TOKEN = 'slice-test-api-token-0123456789abcdefghij';
const json = { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` };

beforeAll(async () => {
  env = await createDevServerEnv();
  smtp = await startSmtpSink();
  config = loadConfig({ NODE_ENV: 'test', SMTP_URL: smtp.url, TEMPORAL_TASK_QUEUE: 'slice-test', PUBLIC_BASE_URL: 'http://127.0.0.1:1', API_TOKENS: `slice:${API_TOKEN}:submit+read` });
  stopWorker = await runRealWorker(env, config);
  const cases = new CaseService({ client: env.client, taskQueue: config.temporal.taskQueue, policy: config.policy, recordsMode: 'attestation', caseIdKey: config.caseIdKey });
  const app = createApp({ config, cases, links: new LinkSealer(config.linkKeys) });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 240_000);

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await stopWorker?.();
  await smtp?.close();
  await env?.teardown();
});

function submission() {
  const day = 86_400_000;
  return {
    therapist: { id: 'T-1001', name: 'Alex Morgan', email: 'alex@example.org' },
    reason: 'illness',
    expectedReturn: new Date(Date.now() + 3 * day).toISOString().slice(0, 10),
    sessions: [
      {
        id: `S-${Date.now()}`,
        startsAt: new Date(Date.now() + 2 * day).toISOString(),
        client: { ref: 'C-2002', firstName: 'Sam', preferredContact: 'email', email: 'sam@example.org' },
        rebook: { slots: [new Date(Date.now() + 4 * day).toISOString()] },
      },
    ],
  };
}

test('a cancellation submitted over HTTP starts one workflow whose email reaches the SMTP inbox, and a repeat starts nothing new', async () => {
  const body = submission();
  const res = await fetch(`${baseUrl}/api/cancellations`, { method: 'POST', headers: json, body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  const created = (await res.json()) as { cancellations: { id: string; links: { self: string } }[] };
  expect(created.cancellations).toHaveLength(1);
  const id = created.cancellations[0]!.id;
  expect(created.cancellations[0]!.links.self).toBe(`/api/cancellations/${id}`);

  const mail = await smtp.waitFor((m) => m.to.includes('sam@example.org'), 30_000);
  expect(mail.subject).not.toMatch(/Sam|therapy|illness/i);
  expect(mail.text).toContain('Samaritans');
  expect(mail.text).toMatch(/\/c\/[A-Za-z0-9._-]+/);

  const again = await fetch(`${baseUrl}/api/cancellations`, { method: 'POST', headers: json, body: JSON.stringify(body) });
  expect(again.status).toBe(201);
  const repeated = ((await again.json()) as typeof created).cancellations[0]!;
  expect(repeated.id).toBe(id);
  expect(repeated).not.toHaveProperty('changesIgnored');

  // The same session with a corrected address: the earlier case stands, and the caller is told.
  const corrected = structuredClone(body);
  corrected.sessions[0]!.client.email = 'sam.new@example.org';
  const third = await fetch(`${baseUrl}/api/cancellations`, { method: 'POST', headers: json, body: JSON.stringify(corrected) });
  expect(third.status).toBe(201);
  expect(((await third.json()) as { cancellations: unknown[] }).cancellations).toEqual([expect.objectContaining({ id, changesIgnored: true })]);
  const runs = [];
  for await (const wf of env.client.workflow.list({ query: `WorkflowId = 'cancellation-${id}'` })) runs.push(wf);
  expect(runs).toHaveLength(1);

  const state = await fetch(`${baseUrl}/api/cancellations/${id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  expect(state.status).toBe(200);
  const view = (await state.json()) as { stage: string; caseId: string };
  expect(view.caseId).toBe(id);
  expect(['contacting', 'awaiting-choice']).toContain(view.stage);
});

test('an invalid submission is refused with field errors and starts no workflow', async () => {
  const body = submission();
  (body.sessions[0]!.client as Record<string, unknown>).email = undefined;
  const before = await env.client.workflow.count('WorkflowType = "cancellationCase"');
  const res = await fetch(`${baseUrl}/api/cancellations`, { method: 'POST', headers: json, body: JSON.stringify(body) });
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({ errors: [expect.objectContaining({ path: 'sessions.0.client.email' })] });
  expect((await env.client.workflow.count('WorkflowType = "cancellationCase"')).count).toBe(before.count);
});
