/**
 * SMS through a local server speaking GOV.UK Notify's v2 API: the request Notify receives (JSON
 * body, JWT signed with the key's secret), how each answer is classified for Temporal, the
 * reference lookup that stops a retried send from texting twice, and the development fallback
 * to the mailbox.
 */
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createActivities } from '../../activities';
import { buildActivityDeps } from '../../activities/deps';
import { listMailbox } from '../../src/mailbox/mailbox';
import { FailureType } from '../../src/shared/activities';
import { parseNotifyApiKey } from '../../src/sms/jwt';
import { NotifySmsSender } from '../../src/sms/notify';
import { json, startHttpPeer, type HttpPeer, type RecordedRequest } from '../helpers/http-peer';
import { CASE_ID, NOW, clientNotice, expectNonRetryable, failureOf, isRetryable, recordingMailer, testConfig } from './fixtures';

const SERVICE_ID = '26785a09-ab16-4eb0-8407-a37497a57506';
const SECRET = '3d844edf-8d35-48ac-975b-e847b4f122b0';
const API_KEY = `shortnotice-live-key-${SERVICE_ID}-${SECRET}`;
const TEMPLATE_ID = 'f33517ff-2a88-4f6e-b855-c550268ce08a';
const NOTIFICATION_ID = '740e5834-3a29-46b4-9a6f-16142fde533a';

let notify: HttpPeer;

beforeAll(async () => {
  notify = await startHttpPeer();
});
afterAll(async () => {
  await notify.close();
});
beforeEach(() => {
  notify.requests.length = 0;
  notify.handle((req, res) => {
    if (req.method === 'POST' && req.url === '/v2/notifications/sms') {
      const body = JSON.parse(req.body) as { reference: string; personalisation: { body: string } };
      return json(res, 201, { id: NOTIFICATION_ID, reference: body.reference, content: { body: body.personalisation.body, from_number: 'GOVUK' } });
    }
    json(res, 404, { status_code: 404, errors: [{ error: 'NotFound', message: 'Not found' }] });
  });
});

function sender(timeoutMs = 2000) {
  return new NotifySmsSender({ apiKey: API_KEY, templateId: TEMPLATE_ID, baseUrl: `${notify.url}/`, timeoutMs, now: () => NOW });
}

/** Verifies the bearer token the way Notify does: HS256 over header.payload with the secret. */
function verifiedClaims(req: RecordedRequest): { iss: string; iat: number } {
  const auth = String(req.headers.authorization);
  expect(auth).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  const [header, payload, signature] = auth.slice('Bearer '.length).split('.') as [string, string, string];
  expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ typ: 'JWT', alg: 'HS256' });
  const expected = createHmac('sha256', SECRET).update(`${header}.${payload}`).digest('base64url');
  expect(signature).toBe(expected);
  return JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iss: string; iat: number };
}

function answer(status: number, body: unknown) {
  notify.handle((_req, res) => json(res, status, body));
}

test('a text is posted to /v2/notifications/sms with the template, the body as personalisation and the reference', async () => {
  const sent = await sender().send('+447700900123', 'Your appointment is cancelled.', 'c1.offer');

  expect(sent).toEqual({ id: NOTIFICATION_ID });
  expect(notify.requests).toHaveLength(1);
  const req = notify.requests[0]!;
  expect(req.method).toBe('POST');
  expect(req.url).toBe('/v2/notifications/sms');
  expect(req.headers['content-type']).toBe('application/json');
  expect(JSON.parse(req.body)).toEqual({
    phone_number: '+447700900123',
    template_id: TEMPLATE_ID,
    personalisation: { body: 'Your appointment is cancelled.' },
    reference: 'c1.offer',
  });
});

test('the request carries a JWT signed with the secret half of the API key, issued by the service id, now', async () => {
  await sender().send('+447700900123', 'Hello', 'c1.offer');
  expect(verifiedClaims(notify.requests[0]!)).toEqual({ iss: SERVICE_ID, iat: Math.floor(NOW.getTime() / 1000) });
});

test('the API key is split from the end, so a key name with dashes works', () => {
  expect(parseNotifyApiKey(API_KEY)).toEqual({ serviceId: SERVICE_ID, secretKey: SECRET });
});

test('a malformed API key is refused without repeating it', () => {
  const bad = `key-${SERVICE_ID}-not-a-secret`;
  expect(() => new NotifySmsSender({ apiKey: bad, templateId: TEMPLATE_ID, baseUrl: notify.url })).toThrow(/not a GOV.UK Notify API key/);
  try {
    parseNotifyApiKey(bad);
  } catch (err) {
    expect((err as Error).message).not.toContain(SERVICE_ID);
  }
});

describe('Notify answers', () => {
  test.each([500, 502, 503])('%i is retryable', async (status) => {
    answer(status, { status_code: status, errors: [{ error: 'Exception', message: 'Internal server error' }] });
    expect(isRetryable(await failureOf(sender().send('+447700900123', 'x', 'r')))).toBe(true);
  });

  test('429 (rate limit) is retryable', async () => {
    answer(429, { status_code: 429, errors: [{ error: 'RateLimitError', message: 'Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds' }] });
    const err = await failureOf(sender().send('+447700900123', 'x', 'r'));
    expect(isRetryable(err)).toBe(true);
    expect(err.message).toContain('429 RateLimitError');
  });

  test('400 for the phone number is a non-retryable ChannelRejected that does not repeat the number', async () => {
    answer(400, { status_code: 400, errors: [{ error: 'ValidationError', message: 'phone_number +447700900123 Not a UK mobile number' }] });
    const err = await failureOf(sender().send('+447700900123', 'x', 'r'));
    expectNonRetryable(err, FailureType.ChannelRejected);
    expect(err.message).not.toContain('7700900123');
  });

  test('400 for a missing template is ChannelMisconfigured: a person must fix the set-up', async () => {
    answer(400, { status_code: 400, errors: [{ error: 'BadRequestError', message: 'Template not found' }] });
    expectNonRetryable(await failureOf(sender().send('+447700900123', 'x', 'r')), FailureType.ChannelMisconfigured);
  });

  test('400 for a team-only key is ChannelMisconfigured', async () => {
    answer(400, { status_code: 400, errors: [{ error: 'BadRequestError', message: "Can't send to this recipient using a team-only API key" }] });
    expectNonRetryable(await failureOf(sender().send('+447700900123', 'x', 'r')), FailureType.ChannelMisconfigured);
  });

  test('403 (bad token) is ChannelMisconfigured', async () => {
    answer(403, { status_code: 403, errors: [{ error: 'AuthError', message: 'Invalid token: signature, api token not found' }] });
    expectNonRetryable(await failureOf(sender().send('+447700900123', 'x', 'r')), FailureType.ChannelMisconfigured);
  });

  test('no answer within the timeout is retryable', async () => {
    notify.handle(() => undefined);
    const started = Date.now();
    const err = await failureOf(sender(200).send('+447700900123', 'x', 'r'));
    expect(isRetryable(err)).toBe(true);
    expect(err.message).toContain('did not answer within 200 ms');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('an unreachable Notify is retryable', async () => {
    const gone = await startHttpPeer();
    await gone.close();
    const unreachable = new NotifySmsSender({ apiKey: API_KEY, templateId: TEMPLATE_ID, baseUrl: gone.url, timeoutMs: 2000 });
    const err = await failureOf(unreachable.send('+447700900123', 'x', 'r'));
    expect(isRetryable(err)).toBe(true);
    expect(err.message).toContain('could not be reached');
  });

  test('a 201 with an unreadable body still counts as sent, so the text is not sent twice', async () => {
    notify.handle((_req, res) => {
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end('{not json');
    });
    expect(await sender().send('+447700900123', 'x', 'c1.offer')).toEqual({ id: 'notify-reference:c1.offer' });
  });
});

describe('a retried send', () => {
  function withEarlier(notifications: Array<{ id: string; reference: string; status: string }>) {
    notify.handle((req, res) => {
      if (req.method === 'GET' && req.url.startsWith('/v2/notifications?')) return json(res, 200, { notifications, links: {} });
      json(res, 201, { id: 'new-notification' });
    });
  }

  test('finds the text the first attempt already sent (by reference) and does not send again', async () => {
    withEarlier([{ id: NOTIFICATION_ID, reference: 'c1.offer', status: 'sending' }]);
    expect(await sender().send('+447700900123', 'x', 'c1.offer', { retry: true })).toEqual({ id: NOTIFICATION_ID });
    expect(notify.requests.map((r) => r.method)).toEqual(['GET']);
    const query = new URL(notify.requests[0]!.url, notify.url).searchParams;
    expect(Object.fromEntries(query)).toEqual({ template_type: 'sms', reference: 'c1.offer' });
    verifiedClaims(notify.requests[0]!);
  });

  test('sends again when the earlier text failed on Notify\'s side', async () => {
    withEarlier([{ id: NOTIFICATION_ID, reference: 'c1.offer', status: 'technical-failure' }]);
    expect(await sender().send('+447700900123', 'x', 'c1.offer', { retry: true })).toEqual({ id: 'new-notification' });
    expect(notify.requests.map((r) => r.method)).toEqual(['GET', 'POST']);
  });

  test('a first attempt sends without looking anything up', async () => {
    withEarlier([{ id: NOTIFICATION_ID, reference: 'c1.offer', status: 'delivered' }]);
    await sender().send('+447700900123', 'x', 'c1.offer');
    expect(notify.requests.map((r) => r.method)).toEqual(['POST']);
  });

  test('the activity marks attempts after the first as retries, with the same reference', async () => {
    withEarlier([]);
    let attempt = 1;
    const config = testConfig({ NOTIFY_API_KEY: API_KEY, NOTIFY_SMS_TEMPLATE_ID: TEMPLATE_ID, NOTIFY_BASE_URL: notify.url });
    const activities = createActivities({ config, mailer: recordingMailer(), sms: sender(), attempt: () => attempt, now: () => NOW });
    await activities.notifyClient(clientNotice('callbackPromise', 'sms'));
    attempt = 2;
    const delivery = await activities.notifyClient(clientNotice('callbackPromise', 'sms'));

    expect(notify.requests.map((r) => r.method)).toEqual(['POST', 'GET', 'POST']);
    const references = notify.requests.filter((r) => r.method === 'POST').map((r) => (JSON.parse(r.body) as { reference: string }).reference);
    expect(references).toEqual([`${CASE_ID}.client-callbackPromise`, `${CASE_ID}.client-callbackPromise`]);
    // Notify's id comes back twice: as the message id, and as the handle the case follows the text by (D7).
    expect(delivery).toEqual({
      channel: 'sms',
      messageId: 'new-notification',
      notifyId: 'new-notification',
      acceptedAt: NOW.toISOString(),
    });
  });
});

describe('the real dependencies', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'shortnotice-sms-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('with Notify configured, a client text goes to Notify', async () => {
    const config = testConfig({ NOTIFY_API_KEY: API_KEY, NOTIFY_SMS_TEMPLATE_ID: TEMPLATE_ID, NOTIFY_BASE_URL: notify.url, MAILBOX_DIR: dir });
    const activities = createActivities({ ...buildActivityDeps(config), attempt: () => 1 });
    await activities.notifyClient(clientNotice('slotOffer', 'sms'));
    expect(notify.requests).toHaveLength(1);
    const body = JSON.parse(notify.requests[0]!.body) as { personalisation: { body: string } };
    expect(body.personalisation.body).toMatch(/hoose a new time by \w{3} \d{1,2} \w{3} \d{2}:\d{2}:\nhttps:\/\/shortnotice\.example\/c\/\S+/);
    expect(await listMailbox(dir)).toEqual([]);
  });

  test('with no SMS provider, a client text lands in the development mailbox for a person to read', async () => {
    const config = testConfig({ MAILBOX_DIR: dir });
    const activities = createActivities({ ...buildActivityDeps(config), attempt: () => 1 });
    const delivery = await activities.notifyClient(clientNotice('callbackPromise', 'sms'));

    const [entry] = await listMailbox(dir);
    expect(entry).toMatchObject({ to: 'sms+447700900123@mailbox.localhost', subject: 'SMS', messageId: delivery.messageId });
    expect(entry!.text).toContain('We will phone you by Mon 30 Nov 17:00');
    expect(entry!.text).toContain('In crisis? Samaritans 116 123');
    expect(notify.requests).toHaveLength(0);
  });

  test('in production with no SMS provider, a text fails as ChannelMisconfigured instead of going to a file', async () => {
    const config = testConfig({ NODE_ENV: 'production', MAILBOX_DIR: dir });
    const activities = createActivities({ ...buildActivityDeps(config), attempt: () => 1 });
    expectNonRetryable(await failureOf(activities.notifyClient(clientNotice('callbackPromise', 'sms'))), FailureType.ChannelMisconfigured);
    expect(await listMailbox(dir)).toEqual([]);
  });
});
