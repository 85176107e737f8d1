import { isoToParts, isoToUkLocal, partsFromSingle, partsProblem, partsToDate, partsToIso, ukDateTimeToIso, ukLocalToIso } from '../../src/web/uk-time';

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

describe('the NHS.UK date input and a 24-hour time, read as UK local time (issue 15, U8)', () => {
  it.each([
    ['numbers', { day: '1', month: '7', year: '2026', time: '10:00' }, '2026-07-01T09:00:00.000Z'],
    ['leading zeros and a dot in the time', { day: '01', month: '07', year: '2026', time: '10.30' }, '2026-07-01T09:30:00.000Z'],
    ['a month name', { day: '27', month: 'November', year: '2026', time: '1430' }, '2026-11-27T14:30:00.000Z'],
    ['a short month name and a time with pm', { day: '27', month: 'nov', year: '2026', time: '2:30 pm' }, '2026-11-27T14:30:00.000Z'],
    ['midnight written as 12am', { day: '27', month: '11', year: '2026', time: '12am' }, '2026-11-27T00:00:00.000Z'],
  ])('when typed with %s, then it is read as the right instant', (_name, parts, iso) => {
    expect(partsToIso(parts)).toEqual({ ok: true, value: iso });
  });

  it.each([
    [{ day: '', month: '', year: '', time: '' }, 'missing'],
    [{ day: '', month: '7', year: '2026', time: '10:00' }, 'no-day'],
    [{ day: '1', month: '', year: '2026', time: '10:00' }, 'no-month'],
    [{ day: '1', month: '7', year: '', time: '10:00' }, 'no-year'],
    [{ day: '1', month: '7', year: '2026', time: '' }, 'no-time'],
    [{ day: '1', month: '7', year: '26', time: '10:00' }, 'year-digits'],
    [{ day: '30', month: '2', year: '2026', time: '10:00' }, 'not-real'],
    [{ day: '1', month: '13', year: '2026', time: '10:00' }, 'not-real'],
    [{ day: '1', month: 'ju', year: '2026', time: '10:00' }, 'not-real'],
    [{ day: '1', month: '7', year: '2026', time: '24:00' }, 'time'],
    [{ day: '1', month: '7', year: '2026', time: '13pm' }, 'time'],
    [{ day: '1', month: '7', year: '2026', time: 'noon' }, 'time'],
    [{ day: '29', month: '3', year: '2026', time: '01:30' }, 'nonexistent'],
  ])('when given %o, then the problem is %s', (parts, problem) => {
    expect(partsToIso(parts)).toEqual({ ok: false, problem });
  });

  it('when a date alone is asked for, then a time is not needed, and the words name the question', () => {
    expect(partsToDate({ day: '15', month: '12', year: '2026' })).toEqual({ ok: true, value: '2026-12-15' });
    expect(partsProblem('no-month', 'the date and time the session was due to start')).toBe('The date and time the session was due to start must include a month');
    expect(partsProblem('not-real', 'the date of your expected return', false)).toBe('The date of your expected return must be a real date');
    expect(partsProblem('missing', 'the new time')).toBe('Enter the new time');
  });

  it('when an older page posts one date-time field, then its boxes are recovered', () => {
    expect(partsFromSingle('2026-07-01T10:00')).toEqual({ day: '1', month: '7', year: '2026', time: '10:00' });
    expect(partsFromSingle('1/7/2026 10:00')).toEqual({ day: '1', month: '7', year: '2026', time: '10:00' });
    expect(partsFromSingle('2026-07-01')).toEqual({ day: '1', month: '7', year: '2026', time: '' });
    expect(isoToParts('2026-07-01T09:00:00.000Z')).toEqual({ day: '1', month: '7', year: '2026', time: '10:00' });
  });
});
