/**
 * D7, POST /hooks/bounces: who may post, what is read (a raw DSN email, a bare multipart/report
 * body, or the JSON form), what reaches a case (one report per message, by case and step, with
 * a reason free of addresses), and every refusal answered as JSON without a stack trace.
 * The case service is a recording fake; the whole path on a real Temporal server is in
 * test/integration/bounce.test.ts.
 */
import { Writable } from 'node:stream';
import type { Express } from 'express';
import request from 'supertest';
import { envelopeIdFor } from '../../src/delivery/message-ref';
import { ConfigError } from '../../src/config';
import { createLogger } from '../../src/log';
import { messageIdFor } from '../../src/mail/mailer';
import type { DeliveryReport } from '../../src/shared/activities';
import { createApp } from '../../src/web/app';
import { gmailBounce, postfixBounce, postfixDelayed, reportBody, type Reported } from '../channels/dsn-samples';
import { API_TOKEN, CASE_ID, makeDeps, OTHER_CASE_ID, testConfig } from './fakes';

const BOUNCE_TOKEN = 'test-bounce-token-0123456789-abcdefghijklm';
const STEP = 'client-slotOffer-5';
const MESSAGE_ID = messageIdFor(CASE_ID, STEP, 1);
const SAM: Reported = {
  messageId: MESSAGE_ID,
  envelopeId: envelopeIdFor(MESSAGE_ID),
  recipient: 'sam.jones@example.net',
};
const auth = { authorization: `Bearer ${BOUNCE_TOKEN}` };

interface Harness {
  app: Express;
  reported: Array<{ caseId: string; report: DeliveryReport }>;
  logLines: string[];
}

/** The app with a case service that knows CASE_ID only (any other case is unknown or finished). */
function harness(env: Record<string, string> = { BOUNCE_TOKENS: `relay:${BOUNCE_TOKEN}` }, fail?: Error): Harness {
  const { deps, cases } = makeDeps({ config: testConfig(env) });
  const reported: Harness['reported'] = [];
  const logLines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    }),
  });
  const reportDelivery = jest.fn(async (caseId: string, report: DeliveryReport) => {
    if (fail) throw fail;
    if (caseId !== CASE_ID) return false;
    reported.push({ caseId, report });
    return true;
  });
  const app = createApp({
    ...deps,
    logger,
    cases: { ...cases, submit: cases.submit, view: cases.view, act: cases.act.bind(cases), actOnAbsence: cases.actOnAbsence.bind(cases), clientSeen: cases.clientSeen.bind(cases), reportDelivery },
  });
  return { app, reported, logLines };
}

const postRaw = (app: Express, raw: string, type = 'message/rfc822', headers: Record<string, string> = auth) =>
  request(app).post('/hooks/bounces').set(headers).set('Content-Type', type).send(Buffer.from(raw));

const expectNoStack = (text: string) => expect(text).not.toMatch(/\bat \S+ \(|node_modules|\.ts:\d+/);

describe('who may post', () => {
  test('D7 without a token, or with a wrong one, a post is refused with 401 and reaches no case', async () => {
    const h = harness();
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer not-the-bounce-token-0123456789abcdef' },
      { authorization: `Basic ${BOUNCE_TOKEN}` },
    ]) {
      const res = await postRaw(h.app, postfixBounce(SAM), 'message/rfc822', headers).expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="shortnotice"');
      expect(res.body).toEqual({ errors: [{ path: '', message: expect.stringContaining('bounce token') }] });
    }
    expect(h.reported).toEqual([]);
  });

  test('D7 with BOUNCE_TOKENS unset every post is refused, and an API token is never a bounce token', async () => {
    const unset = harness({});
    await postRaw(unset.app, postfixBounce(SAM), 'message/rfc822', { authorization: `Bearer ${BOUNCE_TOKEN}` }).expect(
      401,
    );
    const h = harness();
    await postRaw(h.app, postfixBounce(SAM), 'message/rfc822', { authorization: `Bearer ${API_TOKEN}` }).expect(401);
    expect([...unset.reported, ...h.reported]).toEqual([]);
  });

  test('D7 a malformed BOUNCE_TOKENS stops start-up with a message naming the variable, not the token', () => {
    for (const value of ['relay', 'relay:short', `relay:${BOUNCE_TOKEN},relay:${BOUNCE_TOKEN}x`]) {
      expect(() => testConfig({ BOUNCE_TOKENS: value })).toThrow(ConfigError);
      expect(() => testConfig({ BOUNCE_TOKENS: value })).toThrow(/BOUNCE_TOKENS: /);
      try {
        testConfig({ BOUNCE_TOKENS: value });
      } catch (e) {
        expect((e as Error).message).not.toContain(BOUNCE_TOKEN);
      }
    }
  });

  test('D7 a bounce token is not an API token, and /hooks has nothing but /bounces', async () => {
    const h = harness();
    await request(h.app).get(`/api/cancellations/${CASE_ID}`).set(auth).expect(401);
    await request(h.app).post('/hooks/elsewhere').set(auth).send({}).expect(404);
  });
});

describe('what is read', () => {
  test('D7 a Postfix bounce posted as message/rfc822 tells the case its step failed, with the code and no address', async () => {
    const h = harness();
    const res = await postRaw(h.app, postfixBounce(SAM)).expect(202);
    expect(res.body).toEqual({
      received: 1,
      inconclusive: 0,
      unmatched: 0,
      matched: 1,
      duplicates: 0,
      signalled: 1,
      ignored: 0,
    });
    expect(h.reported).toEqual([
      {
        caseId: CASE_ID,
        report: {
          step: STEP,
          status: 'failed',
          reason: '5.1.1 Recipient address rejected: User unknown in virtual mailbox table',
        },
      },
    ]);
    const logged = h.logLines.join('');
    expect(logged).toContain('bounces-received');
    expect(logged).not.toMatch(/sam\.jones|example\.net/);
  });

  test('D7 a bare multipart/report body, its boundary in the Content-Type, is read the same', async () => {
    const h = harness();
    const { contentType, body } = reportBody(gmailBounce(SAM));
    expect(contentType).toMatch(/^multipart\/report;/);
    const res = await postRaw(h.app, body, contentType).expect(202);
    expect(res.body).toMatchObject({ matched: 1, signalled: 1 });
    expect(h.reported).toEqual([
      { caseId: CASE_ID, report: expect.objectContaining({ step: STEP, status: 'failed' }) },
    ]);
  });

  test('D7 JSON: one report or many; unknown ids, cases that are gone, inconclusive and repeated reports are counted, not signalled', async () => {
    const h = harness();
    await request(h.app)
      .post('/hooks/bounces')
      .set(auth)
      .send({ messageId: MESSAGE_ID, status: 'delivered' })
      .expect(202);
    expect(h.reported).toEqual([{ caseId: CASE_ID, report: { step: STEP, status: 'delivered' } }]);

    h.reported.length = 0;
    const confirmation = messageIdFor(CASE_ID, 'client-confirmation-9', 2);
    const res = await request(h.app)
      .post('/hooks/bounces')
      .set(auth)
      .send([
        { messageId: confirmation, status: 'failed', reason: 'smtp; 552 5.2.2 <sam.jones@example.net> mailbox full' },
        { messageId: confirmation, status: 'failed', reason: '5.2.2' },
        { messageId: messageIdFor(OTHER_CASE_ID, STEP, 1), status: 'failed', reason: '5.1.1' },
        { messageId: '<4F1A2B3C4D@relay.example>', status: 'failed' },
        { envelopeId: SAM.envelopeId, status: 'delayed' },
      ])
      .expect(202);
    expect(res.body).toEqual({
      received: 5,
      inconclusive: 1,
      unmatched: 1,
      matched: 3,
      duplicates: 1,
      signalled: 1,
      ignored: 1,
    });
    expect(h.reported).toEqual([
      { caseId: CASE_ID, report: { step: 'client-confirmation-9', status: 'failed', reason: '5.2.2 mailbox full' } },
    ]);
  });

  test('D7 a delay notice is accepted and tells no case anything', async () => {
    const h = harness();
    const res = await postRaw(h.app, postfixDelayed(SAM)).expect(202);
    expect(res.body).toMatchObject({ received: 1, inconclusive: 1, signalled: 0 });
    expect(h.reported).toEqual([]);
  });
});

describe('refusals', () => {
  test('D7 a body that is not a delivery status notification is 400 with the reason, never a stack trace', async () => {
    const h = harness();
    const plain = 'From: MAILER-DAEMON@relay.example\r\nSubject: failure notice\r\n\r\nSorry.\r\n';
    for (const [raw, type] of [
      [plain, 'message/rfc822'],
      ['', 'message/rfc822'],
      [
        '--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x--\r\n',
        'multipart/report; report-type=delivery-status; boundary=x',
      ],
    ] as const) {
      const res = await postRaw(h.app, raw, type).expect(400);
      expect(res.body.errors[0].message).toMatch(/delivery status notification|no body/);
      expectNoStack(res.text);
    }
    expect(h.reported).toEqual([]);
  });

  test('D7 broken JSON and JSON without an id are 400, the latter naming the field', async () => {
    const h = harness();
    const broken = await request(h.app)
      .post('/hooks/bounces')
      .set(auth)
      .set('Content-Type', 'application/json')
      .send('{"messageId":')
      .expect(400);
    expect(broken.body).toEqual({ errors: [{ path: '', message: 'The request body is not valid JSON' }] });
    expectNoStack(broken.text);
    const missing = await request(h.app)
      .post('/hooks/bounces')
      .set(auth)
      .send([{ status: 'failed' }])
      .expect(400);
    expect(missing.body).toEqual({ errors: [{ path: '0.messageId', message: 'give messageId (or envelopeId)' }] });
  });

  test('D7 over 256 kB is 413, as JSON', async () => {
    const h = harness();
    const huge = postfixBounce(SAM).replace(
      'This is the mail system',
      `${'x'.repeat(300 * 1024)}\r\nThis is the mail system`,
    );
    const res = await postRaw(h.app, huge).expect(413);
    expect(res.body).toEqual({ errors: [{ path: '', message: 'The request is too large: send at most 256 kB' }] });
    expect(h.reported).toEqual([]);
  });

  test('D7 another media type is 415; another method is 405', async () => {
    const h = harness();
    await postRaw(h.app, postfixBounce(SAM), 'text/plain').expect(415);
    const res = await request(h.app).get('/hooks/bounces').set(auth).expect(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.body).toEqual({ errors: [{ path: '', message: 'Use POST on this endpoint' }] });
  });

  test('D7 when the cases cannot be reached the relay is told to post again (503), without a stack trace', async () => {
    const h = harness(undefined, new Error('14 UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:7233'));
    const res = await postRaw(h.app, postfixBounce(SAM)).expect(503);
    expect(res.body).toEqual({
      errors: [{ path: '', message: 'The cases could not be reached just now: post the report again later' }],
    });
    expectNoStack(res.text);
  });
});
