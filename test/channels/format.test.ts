/** Dates people read are plain English in UK time, and bad notices fail at once. */
import { ApplicationFailure } from '@temporalio/common';
import { INVALID_NOTICE, formatDay, formatWhen, greetingName, oneLine } from '../../src/mail/format';
import { FailureType } from '../../src/shared/activities';
import { activitiesWith, clientNotice, expectNonRetryable, failureOf, therapistNotice } from './fixtures';

test('a winter time is shown in GMT: "Thursday 27 November at 10:00"', () => {
  expect(formatWhen('2025-11-27T10:00:00Z')).toBe('Thursday 27 November at 10:00');
});

test('a summer time is shown in BST, an hour ahead of UTC', () => {
  expect(formatWhen('2026-06-04T09:00:00Z')).toBe('Thursday 4 June at 10:00');
});

test('an instant with an offset is converted to UK time', () => {
  expect(formatWhen('2026-11-27T10:00:00+01:00')).toBe('Friday 27 November at 09:00');
});

test('a time just after midnight in the UK keeps its UK date', () => {
  expect(formatWhen('2026-06-03T23:30:00Z')).toBe('Thursday 4 June at 00:30');
});

test('a calendar date is shown as that day, whatever the time zone', () => {
  expect(formatDay('2026-12-07')).toBe('Monday 7 December');
  expect(formatDay('2026-06-04T23:30:00Z')).toBe('Friday 5 June');
});

test('an impossible date fails as a non-retryable InvalidNotice', () => {
  for (const bad of [() => formatWhen('not a date'), () => formatDay('2026-02-30')]) {
    let err: unknown;
    try {
      bad();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe(INVALID_NOTICE);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
  }
});

test('oneLine turns control and bidi characters into spaces', () => {
  expect(oneLine('Sam\r\nBcc: x\u202Ey')).toBe('Sam Bcc: x y');
});

test('greetingName keeps the first word of a first name, at most 30 characters', () => {
  expect(greetingName('  Anne-Marie Smith')).toBe('Anne-Marie');
  expect(greetingName('A'.repeat(40))).toHaveLength(30);
  expect(greetingName(undefined)).toBe('');
});

describe('notices the activities refuse', () => {
  test('a slot offer without slots', async () => {
    const { activities, mailer } = activitiesWith();
    expectNonRetryable(await failureOf(activities.notifyClient({ ...clientNotice('slotOffer'), slots: [] })), INVALID_NOTICE);
    expect(mailer.sent).toHaveLength(0);
  });

  test('a confirmation without the booked slot', async () => {
    const { activities } = activitiesWith();
    expectNonRetryable(await failureOf(activities.notifyClient({ ...clientNotice('confirmation'), bookedSlot: undefined })), INVALID_NOTICE);
  });

  test('a call task without contact details', async () => {
    const { activities } = activitiesWith();
    expectNonRetryable(await failureOf(activities.notifyTherapist({ ...therapistNotice('callTask'), contact: undefined })), INVALID_NOTICE);
  });

  test('an email notice for a client with no email address is ChannelRejected', async () => {
    const { activities } = activitiesWith();
    expectNonRetryable(await failureOf(activities.notifyClient({ ...clientNotice('confirmation'), to: { phone: '+447700900123' } })), FailureType.ChannelRejected);
  });

  test('an SMS notice for a client with no phone number is ChannelRejected', async () => {
    const { activities, sms } = activitiesWith();
    expectNonRetryable(await failureOf(activities.notifyClient({ ...clientNotice('confirmation', 'sms'), to: { email: 'sam@example.org' } })), FailureType.ChannelRejected);
    expect(sms.sent).toHaveLength(0);
  });
});
