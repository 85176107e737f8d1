import {
  absenceOverrunAt,
  callbackReminderAt,
  choiceDeadline,
  DEFAULT_POLICY,
  isSignificantAbsence,
  phoneOutcomeDeadline,
  supportInParallel,
  toldEvidenceDue,
  inQuietHours,
  afterQuietHours,
} from '../../src/shared/policy';
import { resolvePolicy } from '../../src/shared/policy-schema';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = Date.parse('2026-11-26T12:00:00Z');

describe('policy', () => {
  test('defaults give the client two days to choose, unless a slot is sooner', () => {
    expect(choiceDeadline(DEFAULT_POLICY, now, [now + 10 * DAY])).toBe(now + 2 * DAY);
    expect(choiceDeadline(DEFAULT_POLICY, now, [now + 10 * DAY, now + DAY])).toBe(now + DAY - DEFAULT_POLICY.choiceCutoffBeforeSlotMs);
  });

  test('the client always gets at least an hour to choose, even for a slot about to start', () => {
    expect(choiceDeadline(DEFAULT_POLICY, now, [now + 30 * 60_000])).toBe(now + HOUR);
  });

  test('a phone outcome is due the lead time before the session, with at least the minimum time to call', () => {
    expect(phoneOutcomeDeadline(DEFAULT_POLICY, now, now + DAY)).toBe(now + DAY - DEFAULT_POLICY.phoneOutcomeLeadMs);
    expect(phoneOutcomeDeadline(DEFAULT_POLICY, now, now + 3 * HOUR)).toBe(now + 2 * HOUR);
  });

  test('D4 for an imminent session the phone outcome is due before it starts, halfway to it, never after', () => {
    expect(phoneOutcomeDeadline(DEFAULT_POLICY, now, now + 10 * 60_000)).toBe(now + 5 * 60_000);
    expect(phoneOutcomeDeadline(DEFAULT_POLICY, now, now + 80 * 60_000)).toBe(now + 30 * 60_000);
    for (const minutes of [5, 20, 29, 31, 59, 61, 90, 119]) {
      const start = now + minutes * 60_000;
      expect(phoneOutcomeDeadline(DEFAULT_POLICY, now, start)).toBeLessThan(start);
    }
  });

  test('D4 support is asked in parallel when the therapist and then support would not both fit before the session', () => {
    expect(supportInParallel(DEFAULT_POLICY, now, now + 20 * 60_000)).toBe(true);
    expect(supportInParallel(DEFAULT_POLICY, now, now + 3 * HOUR)).toBe(false);
  });

  test('D7 a client told only by message must show evidence of delivery by the start of the imminent window, but after a grace, and never after the session', () => {
    expect(toldEvidenceDue(DEFAULT_POLICY, now, now + 2 * DAY)).toBe(now + 2 * DAY - DEFAULT_POLICY.imminentWindowMs);
    expect(toldEvidenceDue(DEFAULT_POLICY, now, now + 20 * 60_000)).toBe(now + 10 * 60_000);
    expect(toldEvidenceDue(DEFAULT_POLICY, now, now + HOUR)).toBe(now + DEFAULT_POLICY.deliveryGraceMs);
  });

  test('quiet hours run from 20:00 to 08:00 UK time, in summer and in winter, and end at the next 08:00', () => {
    const winterNight = Date.parse('2026-12-10T21:30:00Z'); // 21:30 GMT
    const summerNight = Date.parse('2026-07-10T19:30:00Z'); // 20:30 BST
    const summerDay = Date.parse('2026-07-10T18:30:00Z'); // 19:30 BST
    expect(inQuietHours(DEFAULT_POLICY, winterNight)).toBe(true);
    expect(inQuietHours(DEFAULT_POLICY, summerNight)).toBe(true);
    expect(inQuietHours(DEFAULT_POLICY, summerDay)).toBe(false);
    expect(new Date(afterQuietHours(DEFAULT_POLICY, winterNight)).toISOString()).toBe('2026-12-11T08:00:00.000Z');
    expect(new Date(afterQuietHours(DEFAULT_POLICY, summerNight)).toISOString()).toBe('2026-07-11T07:00:00.000Z');
    expect(afterQuietHours(DEFAULT_POLICY, summerDay)).toBe(summerDay);
    // The night the clocks go back: 08:00 on Sunday 25 October 2026 is 08:00 GMT.
    expect(new Date(afterQuietHours(DEFAULT_POLICY, Date.parse('2026-10-24T22:00:00Z'))).toISOString()).toBe('2026-10-25T08:00:00.000Z');
    // The night they go forward: 08:00 on Sunday 29 March 2026 is 07:00 UTC.
    expect(new Date(afterQuietHours(DEFAULT_POLICY, Date.parse('2026-03-28T23:00:00Z'))).toISOString()).toBe('2026-03-29T07:00:00.000Z');
  });

  test('the callback reminder comes the lead time before the callback, or now if that has passed', () => {
    expect(callbackReminderAt(DEFAULT_POLICY, now, now + DAY)).toBe(now + DAY - DEFAULT_POLICY.callbackReminderLeadMs);
    expect(callbackReminderAt(DEFAULT_POLICY, now, now + HOUR)).toBe(now);
  });

  test('an absence is significant only beyond the threshold', () => {
    expect(isSignificantAbsence(DEFAULT_POLICY, now, now + 14 * DAY)).toBe(false);
    expect(isSignificantAbsence(DEFAULT_POLICY, now, now + 15 * DAY)).toBe(true);
  });

  test('the absence counts as over-running from the end of the expected return day', () => {
    expect(new Date(absenceOverrunAt('2026-12-01')).toISOString()).toBe('2026-12-01T23:59:59.999Z');
    // In summer the UK day ends an hour earlier in UTC.
    expect(new Date(absenceOverrunAt('2026-07-01')).toISOString()).toBe('2026-07-01T22:59:59.999Z');
  });

  test('operators override single durations; unknown keys and bad values are refused', () => {
    expect(resolvePolicy({ followUpWindowMs: 1000 })).toEqual({ ...DEFAULT_POLICY, followUpWindowMs: 1000 });
    expect(() => resolvePolicy({ followUpWindow: 1000 })).toThrow(/followUpWindow/);
    expect(() => resolvePolicy({ followUpWindowMs: -5 })).toThrow();
  });
});
