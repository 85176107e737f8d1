import {
  absenceOverrunAt,
  callbackReminderAt,
  choiceDeadline,
  DEFAULT_POLICY,
  isSignificantAbsence,
  phoneOutcomeDeadline,
  resolvePolicy,
} from '../../src/shared/policy';

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

  test('a phone outcome is due before the session, but never sooner than the minimum time to call', () => {
    expect(phoneOutcomeDeadline(DEFAULT_POLICY, now, now + DAY)).toBe(now + DAY - DEFAULT_POLICY.phoneOutcomeLeadMs);
    expect(phoneOutcomeDeadline(DEFAULT_POLICY, now, now + 10 * 60_000)).toBe(now + DEFAULT_POLICY.phoneOutcomeMinimumMs);
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
  });

  test('operators override single durations; unknown keys and bad values are refused', () => {
    expect(resolvePolicy({ followUpWindowMs: 1000 })).toEqual({ ...DEFAULT_POLICY, followUpWindowMs: 1000 });
    expect(() => resolvePolicy({ followUpWindow: 1000 })).toThrow(/followUpWindow/);
    expect(() => resolvePolicy({ followUpWindowMs: -5 })).toThrow();
  });
});
