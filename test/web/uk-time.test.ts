import { isoToUkLocal, ukDateTimeToIso, ukLocalToIso } from '../../src/web/uk-time';

describe('UK wall-clock times from form fields', () => {
  it.each([
    ['winter (GMT)', '2026-01-15', '10:00', '2026-01-15T10:00:00.000Z'],
    ['summer (BST)', '2026-07-01', '10:00', '2026-07-01T09:00:00.000Z'],
    ['the morning the clocks go forward, after the change', '2026-03-29', '02:00', '2026-03-29T01:00:00.000Z'],
    ['the morning the clocks go forward, before the change', '2026-03-29', '00:59', '2026-03-29T00:59:00.000Z'],
    ['the repeated hour when the clocks go back (first, BST)', '2026-10-25', '01:30', '2026-10-25T00:30:00.000Z'],
    ['after the clocks went back', '2026-10-25', '02:00', '2026-10-25T02:00:00.000Z'],
    ['a date typed the British way', '1/7/2026', '10:00', '2026-07-01T09:00:00.000Z'],
  ])('when the time is in %s, then it converts to the right instant', (_name, date, time, iso) => {
    expect(ukLocalToIso(date, time)).toEqual({ ok: true, iso });
  });

  it('when the time is skipped as the clocks go forward, then it is refused as nonexistent', () => {
    expect(ukLocalToIso('2026-03-29', '01:30')).toEqual({ ok: false, problem: 'nonexistent' });
  });

  it.each([['31 February', '2026-02-31', '10:00'], ['25 o\u2019clock', '2026-02-01', '25:00'], ['words', 'tomorrow', 'noon']])(
    'when given %s, then it is refused as invalid',
    (_name, date, time) => {
      expect(ukLocalToIso(date, time)).toEqual({ ok: false, problem: 'invalid' });
    },
  );

  it('when a datetime-local value is given, then it converts the same way, and back', () => {
    const r = ukDateTimeToIso('2026-07-01T10:00');
    expect(r).toEqual({ ok: true, iso: '2026-07-01T09:00:00.000Z' });
    expect(isoToUkLocal('2026-07-01T09:00:00.000Z')).toEqual({ date: '2026-07-01', time: '10:00', dateTime: '2026-07-01T10:00' });
    expect(ukDateTimeToIso('')).toEqual({ ok: false, problem: 'missing' });
  });
});
