import { formatUk, formatUkDate, ukOffsetMinutes } from '../../src/shared/time';

describe('UK time formatting', () => {
  test('winter times are GMT and summer times are BST', () => {
    expect(formatUk('2026-11-27T14:00:00Z')).toBe('Fri 27 Nov 14:00');
    expect(formatUk('2026-07-01T09:30:00Z')).toBe('Wed 1 Jul 10:30');
  });

  test('the clocks change at 01:00 UTC on the last Sundays of March and October', () => {
    expect(ukOffsetMinutes(Date.parse('2026-03-29T00:59:00Z'))).toBe(0);
    expect(ukOffsetMinutes(Date.parse('2026-03-29T01:00:00Z'))).toBe(60);
    expect(ukOffsetMinutes(Date.parse('2026-10-25T00:59:00Z'))).toBe(60);
    expect(ukOffsetMinutes(Date.parse('2026-10-25T01:00:00Z'))).toBe(0);
  });

  test('calendar dates are shown with their weekday', () => {
    expect(formatUkDate('2026-12-01')).toBe('Tue 1 Dec');
  });
});
