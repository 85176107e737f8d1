/**
 * D7, SMS side: following a text until Notify says what became of it. The status lookup runs
 * against a local server speaking Notify's v2 API (GET /v2/notifications/{id}); the smsStatus
 * activity turns each answer into what the workflow's retry policy needs: a report when Notify
 * knows, a retryable DeliveryPending while the text is on its way, a non-retryable
 * DeliveryUnknown when no receipt can come.
 */
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../activities';
import { FailureType } from '../../src/shared/activities';
import { NotifySmsSender } from '../../src/sms/notify';
import { json, startHttpPeer, type HttpPeer } from '../helpers/http-peer';
import { CASE_ID, NOW, expectNonRetryable, failureOf, isRetryable, recordingMailer, testConfig } from './fixtures';

const SERVICE_ID = '26785a09-ab16-4eb0-8407-a37497a57506';
const SECRET = '3d844edf-8d35-48ac-975b-e847b4f122b0';
const API_KEY = `shortnotice-live-key-${SERVICE_ID}-${SECRET}`;
const TEMPLATE_ID = 'f33517ff-2a88-4f6e-b855-c550268ce08a';
const NOTIFICATION_ID = '740e5834-3a29-46b4-9a6f-16142fde533a';
const QUERY = { caseId: CASE_ID, step: 'client-slotOffer-5', notifyId: NOTIFICATION_ID };

let notify: HttpPeer;

beforeAll(async () => {
  notify = await startHttpPeer();
});
afterAll(async () => {
  await notify.close();
});
beforeEach(() => {
  notify.requests.length = 0;
});

/** Notify's answer for the notification, shaped like its real GET response. */
function notifyAnswers(status: string) {
  notify.handle((req, res) => {
    if (req.method === 'GET' && req.url === `/v2/notifications/${NOTIFICATION_ID}`) {
      return json(res, 200, {
        id: NOTIFICATION_ID,
        reference: `${CASE_ID}.client-slotOffer-5`,
        phone_number: '+447700900123',
        type: 'sms',
        status,
        template: { id: TEMPLATE_ID, version: 1, uri: `${notify.url}/v2/template/${TEMPLATE_ID}` },
        body: 'Your appointment is cancelled.',
        created_at: '2026-11-26T09:00:00.000000Z',
        sent_at: '2026-11-26T09:00:01.000000Z',
        completed_at: status === 'delivered' ? '2026-11-26T09:00:09.000000Z' : null,
      });
    }
    json(res, 404, { status_code: 404, errors: [{ error: 'NoResultFound', message: 'No result found' }] });
  });
}

function answer(status: number, body: unknown) {
  notify.handle((_req, res) => json(res, status, body));
}

function sender() {
  return new NotifySmsSender({
    apiKey: API_KEY,
    templateId: TEMPLATE_ID,
    baseUrl: notify.url,
    timeoutMs: 2000,
    now: () => NOW,
  });
}

function activities() {
  const config = testConfig({
    NOTIFY_API_KEY: API_KEY,
    NOTIFY_SMS_TEMPLATE_ID: TEMPLATE_ID,
    NOTIFY_BASE_URL: notify.url,
  });
  return createActivities({ config, mailer: recordingMailer(), sms: sender(), attempt: () => 1, now: () => NOW });
}

describe('the Notify status lookup', () => {
  test('D7 asks GET /v2/notifications/{id} with a signed token, and a delivered text is delivered', async () => {
    notifyAnswers('delivered');
    expect(await sender().status(NOTIFICATION_ID)).toEqual({ state: 'delivered', reason: 'delivered' });
    expect(notify.requests).toHaveLength(1);
    expect(notify.requests[0]!.method).toBe('GET');
    expect(notify.requests[0]!.headers.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  });

  test.each(['permanent-failure', 'temporary-failure', 'technical-failure'])(
    'D7 %s is a failure, named by its status',
    async (status) => {
      notifyAnswers(status);
      expect(await sender().status(NOTIFICATION_ID)).toEqual({ state: 'failed', reason: status });
    },
  );

  test.each(['created', 'sending', 'pending'])('D7 %s is still on its way', async (status) => {
    notifyAnswers(status);
    expect(await sender().status(NOTIFICATION_ID)).toEqual({ state: 'pending', reason: status });
  });

  test('D7 "sent" (an international number with no receipts) is unknowable, not delivered', async () => {
    notifyAnswers('sent');
    expect(await sender().status(NOTIFICATION_ID)).toEqual({ state: 'unknown', reason: 'sent' });
  });

  test('D7 404 (Notify keeps no such text) is unknowable', async () => {
    notifyAnswers('delivered');
    expect(await sender().status('0b4b2c6e-0000-4000-8000-000000000000')).toEqual({
      state: 'unknown',
      reason: 'not-found',
    });
  });

  test.each([500, 503])('D7 %i is retried, not concluded', async (status) => {
    answer(status, { status_code: status, errors: [{ error: 'Exception', message: 'Internal server error' }] });
    const err = await failureOf(sender().status(NOTIFICATION_ID));
    expect(isRetryable(err)).toBe(true);
    expect(err.message).toContain(String(status));
  });

  test('D7 an unreadable 200 is retried, not taken for an answer', async () => {
    notify.handle((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"status":');
    });
    expect(isRetryable(await failureOf(sender().status(NOTIFICATION_ID)))).toBe(true);
  });
});

describe('the smsStatus activity', () => {
  test('D7 a delivered text is reported delivered for its step', async () => {
    notifyAnswers('delivered');
    expect(await activities().smsStatus(QUERY)).toEqual({
      step: 'client-slotOffer-5',
      status: 'delivered',
      reason: 'delivered',
    });
  });

  test('D7 a permanent failure (a landline) is reported failed, so the workflow treats it as W5', async () => {
    notifyAnswers('permanent-failure');
    expect(await activities().smsStatus(QUERY)).toEqual({
      step: 'client-slotOffer-5',
      status: 'failed',
      reason: 'permanent-failure',
    });
  });

  test('D7 a text still on its way fails retryably as DeliveryPending, so Temporal asks again with backoff', async () => {
    notifyAnswers('sending');
    const err = await failureOf(activities().smsStatus(QUERY));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('DeliveryPending');
    expect(isRetryable(err)).toBe(true);
  });

  test('D7 a text Notify cannot account for ends the follow as DeliveryUnknown, without retrying', async () => {
    notifyAnswers('delivered');
    expectNonRetryable(await failureOf(activities().smsStatus({ ...QUERY, notifyId: 'gone' })), 'DeliveryUnknown');
  });

  test('D7 Notify down is an ordinary retry; refused credentials are ChannelMisconfigured', async () => {
    answer(503, { status_code: 503, errors: [{ error: 'Exception', message: 'Service unavailable' }] });
    expect(isRetryable(await failureOf(activities().smsStatus(QUERY)))).toBe(true);
    answer(403, { status_code: 403, errors: [{ error: 'AuthError', message: 'Invalid token' }] });
    expectNonRetryable(await failureOf(activities().smsStatus(QUERY)), FailureType.ChannelMisconfigured);
  });
});
