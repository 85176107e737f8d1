/**
 * Security findings that need the whole stack to show: the Temporal dev server, the worker with
 * the real activities and encryption on, the web app over HTTP, and a real SMTP server on
 * loopback that every email reaches.
 *
 * S6: every key list rotates (the documented procedure) and the same session is submitted
 * again: it must find its case, not start a second one that contacts the client twice.
 *
 * S2: a client posts "I don't feel able to wait" five times from the link in their email: the
 * clinical network team must hear once, not five times.
 *
 * S10: a therapist signed in through OpenID Connect types someone else's address on the form;
 * the call task, which carries the client's phone number, must reach the therapist's own inbox.
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import request from 'supertest';
import { createActivities } from '../../activities';
import { buildActivityDeps } from '../../activities/deps';
import { CaseService } from '../../src/cases';
import { loadConfig, type Config } from '../../src/config';
import { LinkSealer } from '../../src/links';
import { chooseSlotUpdate, viewQuery } from '../../src/shared/messages';
import { caseWorkflowId } from '../../src/shared/ids';
import { encryptedDataConverter } from '../../src/temporal/codec';
import { bundleCaseWorkflows, createCaseWorker } from '../../src/temporal/worker';
import { createApp } from '../../src/web/app';
import { CLIENT_ID, FakeIdp, signInWithIdp } from '../helpers/fake-idp';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { createDevServerEnv } from '../helpers/temporal';
import { isoToUkLocal } from '../../src/web/uk-time';
import { csrfFrom } from '../web/fakes';

const TASK_QUEUE = 'security-stack';
const API_TOKEN = 'stack-test-api-token-0123456789abcdefghij';
const DAY = 86_400_000;

let env: TestWorkflowEnvironment;
let smtp: SmtpSink;
let idp: FakeIdp;
let bundle: Awaited<ReturnType<typeof bundleCaseWorkflows>>;
let worker: { instance: Worker; running: Promise<void> } | undefined;

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
/** Each list's first key as first configured, and the key that goes in front of it at rotation. */
const FIRST = { LINK_KEYS: key('l1'), SESSION_KEYS: key('s1'), PAYLOAD_KEYS: key('p1') };
const NEXT = { LINK_KEYS: key('l2'), SESSION_KEYS: key('s2'), PAYLOAD_KEYS: key('p2') };
const CASE_ID_KEY = randomBytes(32).toString('base64');

function configWith(keys: Record<string, string>): Config {
  return loadConfig({
    NODE_ENV: 'test',
    SMTP_URL: smtp.url,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    PUBLIC_BASE_URL: 'http://shortnotice.localhost:3000',
    API_TOKENS: `stack:${API_TOKEN}:submit+read`,
    CASE_ID_KEY,
    ...keys,
  });
}

async function startWorker(config: Config): Promise<void> {
  const instance = await createCaseWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: TASK_QUEUE,
    activities: createActivities(buildActivityDeps(config)),
    payloadKeys: config.payloadKeys,
    workflowBundle: bundle,
  });
  worker = { instance, running: instance.run() };
}

async function stopWorker(): Promise<void> {
  worker?.instance.shutdown();
  await worker?.running;
  worker = undefined;
}

/** The web app as `npm run web` builds it from `config`. */
function appFor(config: Config) {
  const client = new Client({
    connection: env.connection,
    namespace: 'default',
    dataConverter: encryptedDataConverter(config.payloadKeys),
  });
  const cases = new CaseService({
    client,
    taskQueue: TASK_QUEUE,
    policy: config.policy,
    recordsMode: config.records.mode,
    caseIdKey: config.caseIdKey,
  });
  return { app: createApp({ config, cases, links: new LinkSealer(config.linkKeys) }), client };
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function caseIdsOnQueue(): Promise<string[]> {
  const ids: string[] = [];
  // The cases only: the therapist's absence they joined runs on the same queue.
  for await (const wf of env.client.workflow.list({ query: `TaskQueue = '${TASK_QUEUE}' AND WorkflowType = 'cancellationCase'` })) ids.push(wf.workflowId);
  return ids.sort();
}

const auth = { Authorization: `Bearer ${API_TOKEN}` };

/** Signs a clinical lead in through the development sign-in; the session cookie it ends with. */
async function sessionCookie(app: ReturnType<typeof appFor>['app']): Promise<string> {
  const cookieOf = (res: request.Response) => String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
  const form = await request(app).get('/auth/sign-in').expect(200);
  const res = await request(app)
    .post('/auth/sign-in')
    .set('Cookie', cookieOf(form))
    .type('form')
    .send({ _csrf: csrfFrom(form.text), role: 'clinical-lead', ref: 'LEAD7', name: 'Jo Patel', email: '' })
    .expect(303);
  return cookieOf(res);
}

beforeAll(async () => {
  idp = new FakeIdp();
  [env, smtp, bundle] = await Promise.all([createDevServerEnv(), startSmtpSink(), bundleCaseWorkflows(), idp.start()]);
}, 300_000);

afterEach(stopWorker);

afterAll(async () => {
  for (const step of [() => smtp?.close(), () => idp?.stop(), () => env?.teardown()])
    await Promise.resolve(step()).catch(() => undefined);
}, 120_000);

describe('S6 rotating every key list', () => {
  it('S6 after LINK_KEYS, SESSION_KEYS and PAYLOAD_KEYS all rotate, a resubmitted session finds its case, its client is contacted once, and old links and sessions still open', async () => {
    const client = {
      ref: 'C-6001',
      firstName: 'Sam',
      preferredContact: 'email',
      email: `sam.${Date.now()}@example.org`,
    };
    const submission = {
      therapist: { id: 'T6001', name: 'Alex Morgan', email: 'alex.t6001@example.org' },
      reason: 'illness',
      sessions: [
        {
          id: `S-6-${Date.now()}`,
          startsAt: new Date(Date.now() + 3 * DAY).toISOString(),
          client,
          rebook: { slots: [new Date(Date.now() + 5 * DAY).toISOString()] },
        },
      ],
    };

    const before = configWith(FIRST);
    await startWorker(before);
    const first = appFor(before);
    const created = await request(first.app).post('/api/cancellations').set(auth).send(submission).expect(201);
    const caseId = created.body.cancellations[0].id as string;
    const offer = await smtp.waitFor((m) => m.to.includes(client.email), 60_000);
    const link = new URL(/https?:\/\/\S+\/c\/[A-Za-z0-9._-]+/.exec(offer.text)![0]).pathname;
    const lead = await sessionCookie(first.app);
    await stopWorker();

    // The documented rotation: a new key in front of each list, the old one kept second.
    const rotated = configWith({
      LINK_KEYS: `${NEXT.LINK_KEYS},${FIRST.LINK_KEYS}`,
      SESSION_KEYS: `${NEXT.SESSION_KEYS},${FIRST.SESSION_KEYS}`,
      PAYLOAD_KEYS: `${NEXT.PAYLOAD_KEYS},${FIRST.PAYLOAD_KEYS}`,
    });
    await startWorker(rotated);
    const after = appFor(rotated);
    const again = await request(after.app).post('/api/cancellations').set(auth).send(submission).expect(201);

    expect(again.body.cancellations).toEqual([{ id: caseId, links: { self: `/api/cancellations/${caseId}` } }]);
    expect(await caseIdsOnQueue()).toEqual([caseWorkflowId(caseId)]);
    // The case has settled (nothing sending) and its client heard once.
    const view = await eventually('the case to settle', async () => {
      const v = await after.client.workflow.getHandle(caseWorkflowId(caseId)).query(viewQuery);
      return v.sending === 0 ? v : undefined;
    });
    expect(view.timeline.filter((t) => t.kind === 'message' && t.text.startsWith('Client:'))).toHaveLength(1);
    expect(smtp.messages.filter((m) => m.to.includes(client.email))).toHaveLength(1);

    // What was sealed under the old keys still opens under the rotated ones.
    await request(after.app).get(link).expect(200);
    const page = await request(after.app).get(`/cancellations/${caseId}`).set('Cookie', lead).expect(200);
    expect(page.text).toContain('Jo Patel');
  }, 180_000);
});

describe('S10 the address that gets call tasks', () => {
  it("S10 a therapist signed in with OIDC types an attacker's address on the form: the call task with the client's phone number reaches the therapist's own inbox, and nothing reaches the attacker", async () => {
    const keys = { LINK_KEYS: FIRST.LINK_KEYS, SESSION_KEYS: FIRST.SESSION_KEYS, PAYLOAD_KEYS: FIRST.PAYLOAD_KEYS };
    const config = configWith({ ...keys, OIDC_ISSUER_URL: idp.url, OIDC_CLIENT_ID: CLIENT_ID });
    await startWorker(config);
    const { app } = appFor(config);
    const own = `alex.${Date.now()}@vhg.example`;
    const attacker = `collector.${Date.now()}@evil.example`;
    const agent = await signInWithIdp(app, idp, {
      roles: ['therapist'],
      staff_ref: 'T1010',
      name: 'Alex Morgan',
      email: own,
    });
    const page = await agent.get('/cancellations/new').expect(200);
    const at = (ms: number) => isoToUkLocal(new Date(Date.now() + ms - ((Date.now() + ms) % 60_000)).toISOString())!;
    const start = at(3 * DAY);
    await agent
      .post('/cancellations')
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        'therapist-name': 'Alex Morgan',
        'therapist-email': attacker,
        reason: 'illness',
        'session-0-id': `S-10-${Date.now()}`,
        'session-0-start-date': start.date,
        'session-0-start-time': start.time,
        'session-0-client-ref': 'C-1010',
        'session-0-first-name': 'Sam',
        'session-0-contact': 'phone',
        'session-0-phone': '07700 900456',
        'session-0-rebook': 'callback',
        'session-0-callback': at(2 * DAY).dateTime,
        action: 'submit',
      })
      .expect(200);

    // Only the call task carries the client's number.
    const task = await smtp.waitFor((m) => m.text.includes('+447700900456'), 60_000);
    expect(task.to).toEqual([own]);
    expect(smtp.messages.filter((m) => m.to.includes(attacker))).toEqual([]);
  }, 120_000);
});

describe('one path for actions', () => {
  it('one path for actions: CaseService.act answers done with the update result, refused with the workflow’s reason, or gone for a case that is not there', async () => {
    const config = configWith(FIRST);
    await startWorker(config);
    const { app, client } = appFor(config);
    const email = `robin.${Date.now()}@example.org`;
    const slot = new Date(Date.now() + 5 * DAY);
    slot.setUTCSeconds(0, 0);
    const created = await request(app)
      .post('/api/cancellations')
      .set(auth)
      .send({
        therapist: { id: 'T1111', name: 'Alex Morgan', email: 'alex.t1111@example.org' },
        reason: 'illness',
        sessions: [
          {
            id: `S-act-${Date.now()}`,
            startsAt: new Date(Date.now() + 3 * DAY).toISOString(),
            client: { ref: 'C-1111', firstName: 'Robin', preferredContact: 'email', email },
            rebook: { slots: [slot.toISOString()] },
          },
        ],
      })
      .expect(201);
    const caseId = created.body.cancellations[0].id as string;
    // Waiting for a choice once the offer has gone (the email can land before the workflow moves on).
    await eventually('the case to wait for a choice', async () =>
      (await client.workflow.getHandle(caseWorkflowId(caseId)).query(viewQuery)).stage === 'awaiting-choice'
        ? true
        : undefined,
    );
    const cases = new CaseService({
      client,
      taskQueue: TASK_QUEUE,
      policy: config.policy,
      recordsMode: config.records.mode,
      caseIdKey: config.caseIdKey,
    });

    const notOffered = new Date(slot.getTime() + DAY).toISOString();
    expect(await cases.act(caseId, chooseSlotUpdate, [{ slot: notOffered }], `act-refused-${Date.now()}`)).toEqual({
      kind: 'refused',
      reason: expect.stringMatching(/^That time /),
    });
    expect(await cases.act(caseId, chooseSlotUpdate, [{ slot: slot.toISOString() }], `act-done-${Date.now()}`)).toEqual(
      { kind: 'done', result: { slot: slot.toISOString() } },
    );
    expect(
      await cases.act(
        'c99999999999999999999',
        chooseSlotUpdate,
        [{ slot: slot.toISOString() }],
        `act-gone-${Date.now()}`,
      ),
    ).toEqual({ kind: 'gone' });
    expect(
      await cases.act('not-a-case-id', chooseSlotUpdate, [{ slot: slot.toISOString() }], `act-bad-${Date.now()}`),
    ).toEqual({ kind: 'gone' });
  }, 120_000);
});

describe('S2 a client link cannot flood the clinical network team', () => {
  it('S2 posting "I don’t feel able to wait" five times from one link sends one escalation email to the clinical network team', async () => {
    const config = configWith(FIRST);
    await startWorker(config);
    const { app, client } = appFor(config);
    const email = `casey.${Date.now()}@example.org`;
    const created = await request(app)
      .post('/api/cancellations')
      .set(auth)
      .send({
        therapist: { id: 'T2002', name: 'Alex Morgan', email: 'alex.t2002@example.org' },
        reason: 'illness',
        sessions: [
          {
            id: `S-2-${Date.now()}`,
            startsAt: new Date(Date.now() + 3 * DAY).toISOString(),
            client: { ref: 'C-2002', firstName: 'Casey', preferredContact: 'email', email },
            rebook: { slots: [new Date(Date.now() + 5 * DAY).toISOString()] },
          },
        ],
      })
      .expect(201);
    const caseId = created.body.cancellations[0].id as string;
    const offer = await smtp.waitFor((m) => m.to.includes(email), 60_000);
    const link = new URL(/https?:\/\/\S+\/c\/[A-Za-z0-9._-]+/.exec(offer.text)![0]).pathname;
    const page = await request(app).get(link).expect(200);
    const toNetwork = () => smtp.messages.filter((m) => m.to.includes(config.teams.network) && m.text.includes(caseId));

    for (let i = 0; i < 5; i++)
      await request(app)
        .post(link)
        .type('form')
        .send({ _csrf: csrfFrom(page.text), choice: 'cannot-wait' })
        .expect(200);

    await eventually('the network team to be told', () => toNetwork()[0]);
    // Settled: nothing still sending, so no further email is on its way.
    await eventually('the case to settle', async () =>
      (await client.workflow.getHandle(caseWorkflowId(caseId)).query(viewQuery)).sending === 0 ? true : undefined,
    );
    expect(toNetwork()).toHaveLength(1);
  }, 120_000);
});
