/**
 * D7 end to end, with real parts: the Temporal dev server, the worker with the real activities,
 * the web app over HTTP and an SMTP server on loopback that speaks DSN. A case's first email is
 * accepted by the relay (which is not delivery); the relay's bounce, posted to /hooks/bounces,
 * makes the case ask support to phone the client.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CaseService } from '../../src/cases';
import { loadConfig, type Config } from '../../src/config';
import { LinkSealer } from '../../src/links';
import type { CaseView } from '../../src/shared/case';
import { caseWorkflowId } from '../../src/shared/ids';
import { createApp } from '../../src/web/app';
import { postfixBounce } from '../channels/dsn-samples';
import { runRealWorker } from '../helpers/case-worker';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { createDevServerEnv } from '../helpers/temporal';

const API_TOKEN = 'bounce-test-api-token-0123456789abcdefghij';
const BOUNCE_TOKEN = 'bounce-test-relay-token-0123456789abcdefgh';
const DAY = 86_400_000;
const CLIENT_EMAIL = 'sam.jones@example.net';

let env: TestWorkflowEnvironment;
let smtp: SmtpSink;
let server: Server;
let baseUrl: string;
let config: Config;
let stopWorker: () => Promise<void>;

beforeAll(async () => {
  env = await createDevServerEnv();
  smtp = await startSmtpSink({ dsn: true });
  config = loadConfig({
    NODE_ENV: 'test',
    SMTP_URL: smtp.url,
    TEMPORAL_TASK_QUEUE: 'bounce-test',
    PUBLIC_BASE_URL: 'http://127.0.0.1:1',
    API_TOKENS: `it:${API_TOKEN}:submit+read`,
    BOUNCE_TOKENS: `relay:${BOUNCE_TOKEN}`,
  });
  stopWorker = await runRealWorker(env, config);
  const cases = new CaseService({
    client: env.client,
    taskQueue: config.temporal.taskQueue,
    policy: config.policy,
    recordsMode: 'attestation',
    caseIdKey: config.caseIdKey,
  });
  server = createApp({ config, cases, links: new LinkSealer(config.linkKeys) }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 240_000);

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await stopWorker?.();
  await smtp?.close();
  await env?.teardown();
});

async function submit(): Promise<string> {
  const res = await fetch(`${baseUrl}/api/cancellations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
    body: JSON.stringify({
      therapist: { id: 'T-1001', name: 'Alex Morgan', email: 'alex@example.org' },
      reason: 'illness',
      sessions: [
        {
          id: `S-bounce-${Date.now()}`,
          startsAt: new Date(Date.now() + 2 * DAY).toISOString(),
          client: { ref: 'C-2002', firstName: 'Sam', preferredContact: 'email', email: CLIENT_EMAIL },
          rebook: { slots: [new Date(Date.now() + 4 * DAY).toISOString()] },
        },
      ],
    }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { cancellations: { id: string }[] }).cancellations[0]!.id;
}

async function view(caseId: string): Promise<CaseView> {
  const res = await fetch(`${baseUrl}/api/cancellations/${caseId}`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as CaseView;
}

/** Polls the case until `ready` holds (the workflow acts on its own time), or fails with the last view. */
async function until(caseId: string, ready: (v: CaseView) => boolean, timeoutMs = 30_000): Promise<CaseView> {
  const deadline = Date.now() + timeoutMs;
  let last = await view(caseId);
  while (!ready(last)) {
    if (Date.now() > deadline)
      throw new Error(`case did not reach the expected state: ${JSON.stringify(last, null, 2)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await view(caseId);
  }
  return last;
}

function postBounce(raw: string) {
  return fetch(`${baseUrl}/hooks/bounces`, {
    method: 'POST',
    headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${BOUNCE_TOKEN}` },
    body: raw,
  });
}

/** Open duties of support to phone the client (the alert to support opens a duty to acknowledge it, too). */
const supportPhoneDuties = (v: CaseView) =>
  v.duties.filter((d) => d.owner === 'support' && d.kind === 'phone' && !d.outcome);

test('D7 an email the relay accepted and then bounced makes the case ask support to phone the client', async () => {
  const caseId = await submit();

  // The relay accepts the first notice, asked for a DSN quoting the message's envelope id.
  const mail = await smtp.waitFor((m) => m.to.includes(CLIENT_EMAIL), 30_000);
  expect(mail.dsn).toMatchObject({ ret: 'HDRS', notify: [['FAILURE', 'DELAY', 'SUCCESS']] });
  expect(mail.dsn!.envid).toBe(mail.messageId.replace(/^<|>$/g, ''));

  // Accepted is not delivered: the case waits for the client, and knows of no delivery.
  const accepted = await until(caseId, (v) => v.clientMessages.some((m) => m.status === 'accepted'));
  expect(accepted.stage).toBe('awaiting-choice');
  expect(accepted.told).toBeUndefined();
  expect(supportPhoneDuties(accepted)).toEqual([]);

  // The next hop refuses the mailbox; the relay posts the bounce it generated.
  const bounce = postfixBounce({ messageId: mail.messageId, envelopeId: mail.dsn!.envid!, recipient: CLIENT_EMAIL });
  const res = await postBounce(bounce);
  expect(res.status).toBe(202);
  expect(await res.json()).toMatchObject({ matched: 1, signalled: 1, ignored: 0 });

  const bounced = await until(caseId, (v) => supportPhoneDuties(v).length > 0);
  const message = bounced.clientMessages.find((m) => m.kind === 'slotOffer')!;
  expect(message.status).toBe('failed');
  expect(message.note).toBe('5.1.1 Recipient address rejected: User unknown in virtual mailbox table');
  expect(supportPhoneDuties(bounced)).toEqual([
    expect.objectContaining({ clientFacing: true, what: expect.stringMatching(/^Phone the client/) }),
  ]);
  expect(Date.parse(supportPhoneDuties(bounced)[0]!.deadline)).toBeLessThanOrEqual(Date.parse(bounced.sessionStartsAt));
  expect(bounced.stage).toBe('awaiting-phone-outcome');
  expect(JSON.stringify(bounced.timeline)).not.toContain(CLIENT_EMAIL);

  // Support hears by email, with no client details.
  const alert = await smtp.waitFor((m) => m.to.includes(config.teams.support), 30_000);
  expect(alert.text).not.toContain(CLIENT_EMAIL);

  // The relay posting the same bounce again changes nothing.
  expect((await postBounce(bounce)).status).toBe(202);
  const again = await view(caseId);
  expect(supportPhoneDuties(again)).toHaveLength(1);
  expect(again.escalations.filter((e) => e.team === 'support')).toHaveLength(1);

  // Once the case has finished, a late bounce is accepted and ignored quietly.
  await env.client.workflow.getHandle(caseWorkflowId(caseId)).terminate('test: the case is over');
  const late = await postBounce(bounce);
  expect(late.status).toBe(202);
  expect(await late.json()).toMatchObject({ matched: 1, signalled: 0, ignored: 1 });
});
