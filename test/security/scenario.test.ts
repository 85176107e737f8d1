/**
 * A whole scenario with canary personal data, through the real parts: the Temporal dev server,
 * the worker with the real activities (SMTP to a sink on loopback, SMS to a GOV.UK Notify stand-in),
 * the web app in-process, encryption on. A therapist cancels three sessions through the form; a
 * client books from the link in their email; one client's number is refused by Notify.
 *
 * Then the canaries (names, email address, phone numbers, client reference, risk note) must
 * appear in no workflow ID, search attribute, raw history payload (read with a client that has
 * no codec), log line, URL or text message beyond the fields that must carry them. Controls prove
 * each check can fail: decoded with the key, the same history is full of canaries.
 *
 * Finally the keys rotate: histories written under the old key still decode (worker, client and
 * the codec endpoint), new events use the new key, and the codec endpoint still refuses the
 * signed-out and other origins.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { makeTelemetryFilterString, Runtime, type Worker } from '@temporalio/worker';
import request from 'supertest';
import { createActivities } from '../../activities';
import { buildActivityDeps } from '../../activities/deps';
import { CaseService } from '../../src/cases';
import { loadConfig, type Config } from '../../src/config';
import { parseKeyList } from '../../src/keys';
import { LinkSealer } from '../../src/links';
import { createLogger, TemporalPinoLogger } from '../../src/log';
import { caseWorkflowId } from '../../src/shared/ids';
import { viewQuery, confirmRecordUpdate } from '../../src/shared/messages';
import { AesGcmPayloadCodec, encryptedDataConverter, ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../src/temporal/codec';
import { bundleCaseWorkflows, createCaseWorker } from '../../src/temporal/worker';
import { createApp } from '../../src/web/app';
import { isoToUkLocal } from '../../src/web/uk-time';
import { json, startHttpPeer, type HttpPeer } from '../helpers/http-peer';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../helpers/smtp-sink';
import { createDevServerEnv } from '../helpers/temporal';
import { csrfFrom, signIn } from '../web/fakes';

// ---- every log line of this process, Temporal's own included --------------------------------

const logLines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  },
});
const log = createLogger({ level: 'debug', destination: sink });
Runtime.install({
  logger: new TemporalPinoLogger(log.child({ component: 'temporal' })),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN', other: 'WARN' }), forward: {} } },
});

// ---- the canaries ------------------------------------------------------------------------------

const THERAPIST = { ref: 'T7001', name: 'Quillon Farrowdale', email: 'quillon.canary@example.org' };
const EMAIL_CLIENT = { ref: 'CREF7731', firstName: 'Zephyrine', email: 'zephyrine.canary@example.org' };
const SMS_CLIENT = { ref: 'CREF7732', firstName: 'Oriella', phone: '+447700900777' };
const REFUSED_CLIENT = { ref: 'CREF7733', firstName: 'Thaddeus', phone: '+447700900778' };
const RISK_NOTE = 'Canary risk note: said they felt unsafe at home';

/** Must appear nowhere but the fields named for each message below. */
const ALL_CANARIES = [
  THERAPIST.name,
  THERAPIST.email,
  EMAIL_CLIENT.firstName,
  EMAIL_CLIENT.email,
  EMAIL_CLIENT.ref,
  SMS_CLIENT.firstName,
  SMS_CLIENT.ref,
  SMS_CLIENT.phone,
  '7700900777',
  '07700 900777',
  REFUSED_CLIENT.firstName,
  REFUSED_CLIENT.ref,
  REFUSED_CLIENT.phone,
  '7700900778',
  RISK_NOTE,
  'felt unsafe',
];

const found = (haystack: string, needles = ALL_CANARIES) => needles.filter((n) => haystack.toLowerCase().includes(n.toLowerCase()));

// ---- the parts -----------------------------------------------------------------------------------

const KEY_OLD = `old:${randomBytes(32).toString('base64')}`;
const KEY_NEW = `new:${randomBytes(32).toString('base64')}`;
const CODEC_TOKEN = 'scenario-codec-token-0123456789abcdefgh';
const TASK_QUEUE = 'security-scenario';
const NOTIFY_KEY = 'shortnotice-live-key-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0';

let env: TestWorkflowEnvironment;
let smtp: SmtpSink;
let notify: HttpPeer;
let worker: Worker | undefined;
let running: Promise<void> | undefined;
let bundle: Awaited<ReturnType<typeof bundleCaseWorkflows>>;
const locations: string[] = [];

function configWith(payloadKeys: string): Config {
  return loadConfig({
    NODE_ENV: 'test',
    SMTP_URL: smtp.url,
    NOTIFY_API_KEY: NOTIFY_KEY,
    NOTIFY_SMS_TEMPLATE_ID: 'f33517ff-2a88-4f6e-b855-c550268ce08a',
    NOTIFY_BASE_URL: notify.url,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    // http: over https the session cookie would be Secure, which supertest's agent keeps to https.
    PUBLIC_BASE_URL: 'http://shortnotice.localhost:3000',
    PAYLOAD_KEYS: payloadKeys,
    CODEC_TOKENS: `cli:${CODEC_TOKEN}`,
  });
}

async function startWorker(config: Config): Promise<void> {
  worker = await createCaseWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: TASK_QUEUE,
    activities: createActivities(buildActivityDeps(config, log.child({ component: 'activities' }))),
    payloadKeys: config.payloadKeys,
    workflowBundle: bundle,
  });
  running = worker.run();
}

async function stopWorker(): Promise<void> {
  worker?.shutdown();
  await running;
  worker = undefined;
}

function appFor(config: Config) {
  const client = new Client({ connection: env.connection, namespace: 'default', dataConverter: encryptedDataConverter(config.payloadKeys) });
  const cases = new CaseService({ client, taskQueue: TASK_QUEUE, policy: config.policy, recordsMode: config.records.mode, caseIdKey: config.caseIdKey });
  const app = createApp({ config, cases, links: new LinkSealer(config.linkKeys), logger: log.child({ component: 'web' }) });
  return { app, client };
}

beforeAll(async () => {
  [env, smtp, notify, bundle] = await Promise.all([createDevServerEnv(), startSmtpSink(), startHttpPeer(), bundleCaseWorkflows()]);
  notify.handle((req, res) => {
    if (req.method === 'GET') return json(res, 200, { notifications: [] });
    const body = JSON.parse(req.body) as { phone_number: string };
    if (body.phone_number === REFUSED_CLIENT.phone) {
      return json(res, 400, { status_code: 400, errors: [{ error: 'ValidationError', message: `phone_number ${REFUSED_CLIENT.phone} is not a mobile number` }] });
    }
    return json(res, 201, { id: randomBytes(8).toString('hex') });
  });
  await startWorker(configWith(KEY_OLD));
}, 300_000);

afterAll(async () => {
  const steps = [stopWorker, () => smtp?.close(), () => notify?.close(), () => env?.teardown()];
  for (const step of steps) await Promise.resolve(step()).catch(() => undefined);
}, 120_000);

// ---- helpers -------------------------------------------------------------------------------------

const DAY = 86_400_000;
const at = (days: number, hour: number) => {
  const d = new Date(Date.now() + days * DAY);
  d.setUTCHours(hour, 0, 0, 0);
  return isoToUkLocal(d.toISOString())!;
};

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Every payload in a (raw) history event tree, but search attributes: the server indexes those,
 * so they never go through a codec (they are checked for canaries like everything else).
 */
function payloadsIn(node: unknown, out: Payload[] = []): Payload[] {
  if (!node || typeof node !== 'object') return out;
  if (node instanceof Uint8Array) return out;
  const n = node as Record<string, unknown>;
  if (n.data instanceof Uint8Array && n.metadata && typeof n.metadata === 'object') {
    out.push(n as Payload);
    return out;
  }
  // A patch marker (`patched()`) is written by the SDK's core as plain JSON of the patch's name, past
  // the data converter; it holds no data of the case (rawText's canary check still reads it).
  if (n.markerName === 'core_patch') return out;
  for (const [k, v] of Object.entries(n)) if (k !== 'searchAttributes') payloadsIn(v, out);
  return out;
}

/** Every failure in a history event tree. */
function failuresIn(node: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (!node || typeof node !== 'object' || node instanceof Uint8Array) return out;
  const n = node as Record<string, unknown>;
  if (typeof n.message === 'string' && ('failureInfo' in n || 'applicationFailureInfo' in n || 'encodedAttributes' in n)) out.push(n);
  for (const v of Object.values(n)) failuresIn(v, out);
  return out;
}

/** The raw history as one string: every string field, and every byte array as text. */
function rawText(node: unknown): string {
  const parts: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') parts.push(v);
    else if (v instanceof Uint8Array) parts.push(Buffer.from(v).toString('latin1'), Buffer.from(v).toString('base64'));
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(node);
  return parts.join('\n');
}

const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const urlsIn = (s: string) => [...s.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
const mailText = (m: ReceivedMail) => `${m.subject}\n${m.text}\n${m.html}`;

// ---- the scenario ------------------------------------------------------------------------------

let caseIds: string[] = [];
let config: Config;

describe('a full scenario with canary personal data', () => {
  it('when a therapist cancels three sessions through the form and a client books from the link, then it all happens, over encrypted payloads', async () => {
    config = configWith(KEY_OLD);
    const { app } = appFor(config);
    const staff = await signIn(app, { role: 'therapist', ...THERAPIST });
    const session = (i: number, c: { ref: string; firstName: string }, contact: Record<string, string>) => {
      const start = at(3 + i, 10);
      return {
        [`session-${i}-id`]: `S-${i}-${Date.now()}`,
        [`session-${i}-start-date`]: start.date,
        [`session-${i}-start-time`]: start.time,
        [`session-${i}-client-ref`]: c.ref,
        [`session-${i}-first-name`]: c.firstName,
        ...Object.fromEntries(Object.entries(contact).map(([k, v]) => [`session-${i}-${k}`, v])),
      };
    };
    const res = await staff
      .post('/cancellations', {
        'therapist-name': THERAPIST.name,
        'therapist-email': THERAPIST.email,
        reason: 'illness',
        ...session(0, EMAIL_CLIENT, { contact: 'email', email: EMAIL_CLIENT.email, rebook: 'slots', 'slot-0': at(8, 10).dateTime, 'slot-1': at(9, 14).dateTime, risk: 'yes', 'risk-note': RISK_NOTE }),
        ...session(1, SMS_CLIENT, { contact: 'sms', phone: '07700 900777', rebook: 'callback', callback: at(2, 16).dateTime }),
        ...session(2, REFUSED_CLIENT, { contact: 'sms', phone: '07700 900778', rebook: 'callback', callback: at(2, 17).dateTime }),
        action: 'submit',
      })
      .expect(200);
    caseIds = [...res.text.matchAll(/href="\/cancellations\/(c[0-9a-z]{20})"/g)].map((m) => m[1]!);
    expect(caseIds).toHaveLength(3);

    // The client's email arrives with a link; the texts go to Notify; the refused number is escalated.
    const offer = await smtp.waitFor((m) => m.to.includes(EMAIL_CLIENT.email), 60_000);
    await eventually('the text to the SMS client', () => notify.requests.find((r) => r.method === 'POST' && r.body.includes(SMS_CLIENT.phone)));
    await eventually('the refused number to be escalated to support', () => smtp.messages.find((m) => m.to.includes(config.teams.support)));
    await eventually('the risk escalation', () => smtp.messages.find((m) => m.to.includes(config.teams.risk)));

    const link = urlsIn(offer.text).find((u) => u.includes('/c/'))!;
    const path = new URL(link).pathname;
    const page = await request(app).get(path).expect(200);
    expect(page.text).toContain(`Hello ${EMAIL_CLIENT.firstName}.`);
    const slots = [...page.text.matchAll(/name="choice" type="radio" value="([^"]+)"/g)].map((m) => m[1]!).filter((v) => v !== 'call');
    const booked = await request(app).post(path).type('form').send({ _csrf: csrfFrom(page.text), choice: slots[0] }).expect(200);
    // Every address the app sent a browser to is a URL a person (and their history) sees.
    locations.push(...[res, page, booked].map((r) => r.headers.location).filter((l): l is string => Boolean(l)));
    expect(booked.text).toContain('Your new appointment is booked');
    // The same link, a different choice: the booking stands, and the page says so calmly.
    const again = await request(app).post(path).type('form').send({ _csrf: csrfFrom(page.text), choice: slots[1] });
    expect(again.text).toContain('Your new appointment is already booked for');
    await smtp.waitFor((m) => m.to.includes(EMAIL_CLIENT.email) && m !== offer, 60_000);

    // A staff action recorded as the signed-in therapist, through an encrypted Workflow Update.
    const act = await staff.post(`/cancellations/${caseIds[0]}/actions/confirm-record`, { record: 'attendance' }).expect(303);
    locations.push(act.headers.location!);
    const casePage = await staff.get(act.headers.location!).expect(200);
    expect(casePage.text).toContain('Record confirmed.');
  }, 180_000);

  it('when the workflow IDs and search attributes are listed, then no canary is in them', async () => {
    const ids: string[] = [];
    for await (const wf of env.client.workflow.list({ query: `TaskQueue = '${TASK_QUEUE}'` })) {
      ids.push(wf.workflowId);
      // A case per session, and the therapist's absence they all joined: keyed digests, no names.
      expect(wf.workflowId).toMatch(/^(cancellation-c[0-9a-f]{20}|absence-a[0-9a-f]{20})$/);
      const described = await env.client.workflow.getHandle(wf.workflowId).describe();
      const attributes = JSON.stringify({ raw: described.raw.workflowExecutionInfo?.searchAttributes, typed: described.typedSearchAttributes, memo: described.raw.workflowExecutionInfo?.memo });
      expect(found(attributes)).toEqual([]);
      // The therapist's reference is a search attribute by design; it is not one of the canaries.
      expect(attributes).toContain(THERAPIST.ref);
    }
    expect(ids.filter((id) => id.startsWith('cancellation-')).sort()).toEqual(caseIds.map(caseWorkflowId).sort());
    expect(ids.filter((id) => id.startsWith('absence-'))).toHaveLength(1);
    expect(found(ids.join('\n'))).toEqual([]);
  });

  it('when the raw histories are read with a client that has no codec, then every payload is encrypted, every failure message is encoded, and no canary is anywhere', async () => {
    const codec = new AesGcmPayloadCodec(parseKeyList(KEY_OLD));
    let decodedText = '';
    let failures = 0;
    // The cases and the absence they joined (whose history holds every client's contact details).
    const absences: string[] = [];
    for await (const wf of env.client.workflow.list({ query: `TaskQueue = '${TASK_QUEUE}' AND WorkflowType = 'therapistAbsence'` })) absences.push(wf.workflowId);
    expect(absences).toHaveLength(1);
    for (const workflowId of [...caseIds.map(caseWorkflowId), ...absences]) {
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
      const payloads = payloadsIn(history);
      expect(payloads.length).toBeGreaterThan(5);
      for (const p of payloads) {
        expect(text(p.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
        expect(text(p.metadata![KEY_ID_METADATA])).toBe('old');
      }
      for (const f of failuresIn(history)) {
        failures++;
        expect(f.message).toBe('Encoded failure');
        expect(f.stackTrace ?? '').toBe('');
      }
      expect(found(rawText(history))).toEqual([]);
      // Control: with the key, the same history is full of the case's personal data.
      decodedText += (await codec.decode(payloads)).map((p) => text(p.data)).join('\n');
    }
    expect(found(decodedText)).toEqual(expect.arrayContaining([EMAIL_CLIENT.email, SMS_CLIENT.phone, RISK_NOTE, THERAPIST.name]));
    // The refused number left an encoded activity failure behind.
    expect(failures).toBeGreaterThan(0);
    expect(decodedText).toContain('GOV.UK Notify refused the recipient');
  });

  it('when every log line of the web app, the worker, the activities and Temporal is read, then no canary is in any of them', () => {
    expect(logLines.length).toBeGreaterThan(5);
    const all = logLines.join('\n');
    expect(found(all)).toEqual([]);
    // Control: the lines are there and say what happened.
    expect(all).toContain('"event":"sent"');
    expect(all).toContain('"event":"cancellations-submitted"');
  });

  it('when every URL in every email, text and redirect is read, then none has personal data or a workflow ID, and client links not even the case id', () => {
    const urls = [
      ...smtp.messages.flatMap((m) => urlsIn(`${m.text}\n${m.html}`)),
      ...notify.requests.filter((r) => r.method === 'POST').flatMap((r) => urlsIn(r.body)),
      ...locations,
    ];
    expect(urls.length).toBeGreaterThan(3);
    for (const u of urls) {
      expect({ u, found: found(decodeURIComponent(u)) }).toEqual({ u, found: [] });
      expect(u).not.toMatch(/cancellation-c[0-9a-z]{20}/);
      if (u.includes('/c/')) for (const id of caseIds) expect(u).not.toContain(id);
    }
  });

  it('when every text message is read, then it carries the client’s first name at most, and goes to their number only', () => {
    const sms = notify.requests.filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body) as { phone_number: string; reference: string; personalisation: { body: string } });
    expect(sms.map((s) => s.phone_number).sort()).toEqual([SMS_CLIENT.phone, REFUSED_CLIENT.phone].sort());
    for (const s of sms) {
      const own = s.phone_number === SMS_CLIENT.phone ? SMS_CLIENT.firstName : REFUSED_CLIENT.firstName;
      expect(found(s.personalisation.body, ALL_CANARIES.filter((c) => c !== own))).toEqual([]);
      expect(found(s.reference)).toEqual([]);
      expect(s.personalisation.body).toMatch(/Samaritans 116 123/);
    }
  });

  it('when every email is read, then subjects carry no personal data, clients see only their first name, and teams get a link, not the client', () => {
    const therapistOnly = [THERAPIST.name, EMAIL_CLIENT.firstName, SMS_CLIENT.firstName, REFUSED_CLIENT.firstName, EMAIL_CLIENT.ref, SMS_CLIENT.ref, REFUSED_CLIENT.ref, SMS_CLIENT.phone, REFUSED_CLIENT.phone, '07700 900777', '07700 900778', '7700900777', '7700900778'];
    for (const m of smtp.messages) {
      expect({ subject: m.subject, found: found(m.subject) }).toEqual({ subject: m.subject, found: [] });
      const body = mailText(m);
      if (m.to.includes(EMAIL_CLIENT.email)) {
        expect(found(body, ALL_CANARIES.filter((c) => c !== EMAIL_CLIENT.firstName))).toEqual([]);
      } else if (m.to.includes(THERAPIST.email)) {
        // The therapist's own tasks name their clients (first name and reference), never the risk note or the email address.
        expect(found(body, ALL_CANARIES.filter((c) => !therapistOnly.includes(c)))).toEqual([]);
      } else {
        expect({ to: m.to, found: found(body) }).toEqual({ to: m.to, found: [] });
        expect(body).toMatch(/\/cancellations\/c[0-9a-z]{20}/);
      }
    }
    expect(smtp.messages.some((m) => m.to.includes(config.teams.risk))).toBe(true);
  });
});

describe('rotating the payload keys', () => {
  it('when the new key goes first, then histories written under the old key still decode in the worker, the client and the codec endpoint, and new events use the new key', async () => {
    const rotated = configWith(`${KEY_NEW},${KEY_OLD}`);
    await stopWorker();
    await startWorker(rotated);
    const { app, client } = appFor(rotated);
    const handle = client.workflow.getHandle(caseWorkflowId(caseIds[0]!));

    // A fresh worker replays the whole old-key history to answer.
    const view = await handle.query(viewQuery);
    expect(view.clientFirstName).toBe(EMAIL_CLIENT.firstName);
    await handle.executeUpdate(confirmRecordUpdate, { args: [{ by: THERAPIST.ref, record: 'clinicalNote' }] });

    const history = await env.client.workflow.getHandle(caseWorkflowId(caseIds[0]!)).fetchHistory();
    const payloads = payloadsIn(history);
    const byKey = (id: string) => payloads.filter((p) => text(p.metadata![KEY_ID_METADATA]) === id);
    expect(byKey('old').length).toBeGreaterThan(5);
    expect(byKey('new').length).toBeGreaterThan(0);
    expect(found(rawText(history))).toEqual([]);
    const both = new AesGcmPayloadCodec(parseKeyList(`${KEY_NEW},${KEY_OLD}`));
    const decoded = (await both.decode(payloads)).map((p) => defaultPayloadConverter.fromPayload<unknown>(p));
    expect(JSON.stringify(decoded)).toContain(EMAIL_CLIENT.email);
    // Without the old key, the old history would be lost: rotation must keep it listed.
    await expect(new AesGcmPayloadCodec(parseKeyList(KEY_NEW)).decode(byKey('old'))).rejects.toThrow(/No payload key/);

    // The Web UI's codec endpoint, configured with both keys, decodes an old payload for a token-holder...
    const asJson = (p: Payload) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
      data: Buffer.from(p.data!).toString('base64'),
    });
    const oldOne = byKey('old').find((p) => (p.data?.length ?? 0) > 200)!;
    const res = await request(app).post('/codec/decode').set({ Authorization: `Bearer ${CODEC_TOKEN}`, 'X-Namespace': 'default' }).send({ payloads: [asJson(oldOne)] }).expect(200);
    expect(Buffer.from(res.body.payloads[0].metadata.encoding, 'base64').toString()).toBe('json/plain');
    // ...and refuses the signed-out and other origins.
    await request(app).post('/codec/decode').set({ Origin: config.temporal.uiUrl, 'X-Namespace': 'default' }).send({ payloads: [asJson(oldOne)] }).expect(401);
    await request(app).post('/codec/decode').set({ Origin: 'https://evil.example', Authorization: `Bearer ${CODEC_TOKEN}`, 'X-Namespace': 'default' }).send({ payloads: [asJson(oldOne)] }).expect(403);
  }, 120_000);
});
