/** Shared notices, config and recording fakes for the channel tests. */
import { ApplicationFailure } from '@temporalio/common';
import { createActivities, type ActivityDeps } from '../../activities';
import { loadConfig, type Config } from '../../src/config';
import { TEST_KEYS } from '../helpers/keys';
import type { Mailer, OutgoingMail } from '../../src/mail/mailer';
import type { SmsSender, SmsStatus } from '../../src/sms/sender';
import type {
  ClientMessageKind,
  ClientNotice,
  EscalationNotice,
  ProviderNotice,
  ProviderNoticeKind,
  TherapistMessageKind,
  TherapistNotice,
} from '../../src/shared/activities';
import type { Team } from '../../src/shared/case';

export const CASE_ID = 'c0123456789abcdefghij';
export const NOW = new Date('2026-11-26T09:00:00Z');
export const BASE_URL = 'https://shortnotice.example';
export const CASE_PAGE = `${BASE_URL}/cancellations/${CASE_ID}`;

/** Friday 27 November 2026, 10:00 GMT. */
export const SESSION = '2026-11-27T10:00:00Z';
export const SLOTS = ['2026-12-02T10:00:00Z', '2026-12-03T14:30:00Z'];
export const CALLBACK_BY = '2026-11-30T17:00:00Z';
export const BOOKED = '2026-12-03T14:30:00Z';
export const EXPECTED_RETURN = '2026-12-07';

/** What production requires besides its own keys (a real sign-in), for tests that run as production. */
const PRODUCTION_SETTINGS = {
  OIDC_ISSUER_URL: 'https://login.example.org',
  OIDC_CLIENT_ID: 'shortnotice',
};

/** BASE_URL is not loopback, so the development keys are refused: the test process has its own. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', PUBLIC_BASE_URL: BASE_URL, ...TEST_KEYS, ...(env.NODE_ENV === 'production' ? PRODUCTION_SETTINGS : {}), ...env });
}

export const CLIENT_KINDS: ClientMessageKind[] = ['slotOffer', 'callbackPromise', 'absenceUpdate', 'confirmation', 'bookingWithdrawn'];
export const THERAPIST_KINDS: TherapistMessageKind[] = [
  'callTask',
  'callbackReminder',
  'followUpDuty',
  'confirmation',
  'documentationReminder',
  'absenceOverrunReminder',
];
export const PROVIDER_KINDS: ProviderNoticeKind[] = ['absenceStarted', 'absenceExtended', 'absenceShortened', 'absenceOverrun', 'absenceEnded'];
export const TEAMS: Team[] = ['network', 'risk', 'support', 'lead'];

export function clientNotice(kind: ClientMessageKind, channel: 'email' | 'sms' = 'email'): ClientNotice {
  const base: ClientNotice = {
    caseId: CASE_ID,
    step: `client-${kind}`,
    kind,
    channel,
    to: { email: 'sam@example.org', phone: '+447700900123' },
    firstName: 'Sam',
    sessionStartsAt: SESSION,
  };
  switch (kind) {
    case 'slotOffer':
      return { ...base, slots: SLOTS };
    case 'callbackPromise':
      return { ...base, callbackBy: CALLBACK_BY };
    case 'absenceUpdate':
      return { ...base, expectedReturn: EXPECTED_RETURN };
    case 'confirmation':
      return { ...base, bookedSlot: BOOKED };
    case 'bookingWithdrawn':
      return { ...base, withdrawnSlot: BOOKED, expectedReturn: EXPECTED_RETURN };
  }
}

export function therapistNotice(kind: TherapistMessageKind): TherapistNotice {
  const base: TherapistNotice = {
    caseId: CASE_ID,
    step: `therapist-${kind}`,
    kind,
    to: 'alex@example.org',
    therapistName: 'Alex Morgan',
    clientRef: 'C-2002',
    clientFirstName: 'Sam',
    sessionStartsAt: SESSION,
    deadline: '2026-11-27T09:00:00Z',
  };
  switch (kind) {
    case 'callTask':
      return { ...base, contact: { method: 'phone', phone: '+447700900123', voicemailAllowed: false, purpose: 'cancel' }, slots: SLOTS };
    case 'callbackReminder':
      return { ...base, callbackBy: CALLBACK_BY };
    case 'followUpDuty':
      return { ...base, slots: SLOTS };
    case 'confirmation':
      return { ...base, bookedSlot: BOOKED };
    case 'documentationReminder':
      return { ...base, missingRecords: ['attendance', 'clinicalNote'] };
    case 'absenceOverrunReminder':
      return { ...base, expectedReturn: EXPECTED_RETURN };
  }
}

export function providerNotice(kind: ProviderNoticeKind): ProviderNotice {
  return { caseId: CASE_ID, step: `provider-${kind}`, kind, therapistRef: 'T-1001', sessionStartsAt: SESSION, expectedReturn: EXPECTED_RETURN };
}

export function escalationNotice(team: Team): EscalationNotice {
  return {
    caseId: CASE_ID,
    step: `escalate-${team}`,
    team,
    reason: 'The client cannot wait for the therapist to return',
    therapistRef: 'T-1001',
    sessionStartsAt: SESSION,
    deadline: '2026-11-28T12:00:00Z',
  };
}

export interface RecordingMailer extends Mailer {
  sent: OutgoingMail[];
}

export function recordingMailer(): RecordingMailer {
  const sent: OutgoingMail[] = [];
  return {
    sent,
    send(mail) {
      sent.push(mail);
      return Promise.resolve({ messageId: mail.messageId });
    },
    close: () => Promise.resolve(),
  };
}

export interface RecordingSms extends SmsSender {
  sent: Array<{ to: string; body: string; reference: string; retry: boolean }>;
  /** The ids asked about, in order. */
  looked: string[];
  /** What status() answers next (pending until a test says otherwise). */
  answer: SmsStatus;
}

export function recordingSms(): RecordingSms {
  const sent: RecordingSms['sent'] = [];
  const sms: RecordingSms = {
    sent,
    looked: [],
    answer: { state: 'pending', reason: 'sending' },
    send(to, body, reference, options) {
      sent.push({ to, body, reference, retry: options?.retry === true });
      return Promise.resolve({ id: `sms-${sent.length}` });
    },
    status(id) {
      sms.looked.push(id);
      return Promise.resolve(sms.answer);
    },
  };
  return sms;
}

export function activitiesWith(overrides: Partial<ActivityDeps> = {}) {
  const mailer = recordingMailer();
  const sms = recordingSms();
  const deps: ActivityDeps = { config: testConfig(), mailer, sms, attempt: () => 1, now: () => NOW, ...overrides };
  return { activities: createActivities(deps), mailer, sms, deps };
}

/** Awaits a promise that must fail and returns the error. */
export async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`rejected with a non-Error: ${String(err)}`);
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** Temporal retries any error except a non-retryable ApplicationFailure. */
export function isRetryable(err: Error): boolean {
  return !(err instanceof ApplicationFailure && err.nonRetryable);
}

export function expectNonRetryable(err: Error, type: string): void {
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  expect((err as ApplicationFailure).type).toBe(type);
}
