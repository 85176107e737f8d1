/**
 * Form fields hold UK wall-clock times; the API takes instants. The conversion is exact across
 * the clock changes: a time skipped when the clocks go forward is refused, and a time that
 * happens twice when they go back is read as the first (British Summer Time) one.
 */
import { ukOffsetMinutes } from '../shared/time';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const UK_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
const TIME = /^(\d{1,2})[:.](\d{2})$/;

export type LocalTimeResult = { ok: true; iso: string } | { ok: false; problem: 'missing' | 'invalid' | 'nonexistent' };

/**
 * Date fields arrive as YYYY-MM-DD from a date picker, or as typed text where a browser has no
 * picker: DD/MM/YYYY is read the British way.
 */
export function normaliseDate(value: string): string {
  const v = value.trim();
  const m = UK_DATE.exec(v);
  return m ? `${m[3]}-${m[2]!.padStart(2, '0')}-${m[1]!.padStart(2, '0')}` : v;
}

/** Checks a YYYY-MM-DD calendar date, rejecting 31 Feb and the like. */
export function isCalendarDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** Converts a UK local date (YYYY-MM-DD) and time (HH:MM) to a UTC ISO instant. */
export function ukLocalToIso(date: string, time: string): LocalTimeResult {
  const d = normaliseDate(date);
  const t = time.trim();
  if (!d || !t) return { ok: false, problem: 'missing' };
  const tm = TIME.exec(t);
  if (!isCalendarDate(d) || !tm) return { ok: false, problem: 'invalid' };
  const [hh, mm] = [Number(tm[1]), Number(tm[2])];
  if (hh > 23 || mm > 59) return { ok: false, problem: 'invalid' };
  const [y, mo, day] = d.split('-').map(Number) as [number, number, number];
  const asUtc = Date.UTC(y, mo - 1, day, hh, mm);
  // Try summer time first so an hour that repeats in October resolves to its first occurrence.
  for (const offset of [60, 0]) {
    const instant = asUtc - offset * 60_000;
    if (ukOffsetMinutes(instant) === offset) return { ok: true, iso: new Date(instant).toISOString() };
  }
  return { ok: false, problem: 'nonexistent' };
}

/** Accepts a datetime-local value ("2026-11-27T14:00"), or typed "2026-11-27 14:00" / "27/11/2026 14:00". */
export function ukDateTimeToIso(value: string): LocalTimeResult {
  const v = value.trim();
  if (!v) return { ok: false, problem: 'missing' };
  const m = /^(\d{4}-\d{2}-\d{2}|\d{1,2}\/\d{1,2}\/\d{4})[T ]+(\d{1,2}[:.]\d{2})(?::00(?:\.0+)?)?$/.exec(v);
  if (!m) return { ok: false, problem: 'invalid' };
  return ukLocalToIso(m[1]!, m[2]!);
}

/** The UK wall-clock parts of an instant, for filling date, time and datetime-local fields. */
export function isoToUkLocal(iso: string): { date: string; time: string; dateTime: string } | undefined {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return undefined;
  const local = new Date(ms + ukOffsetMinutes(ms) * 60_000).toISOString();
  const date = local.slice(0, 10);
  const time = local.slice(11, 16);
  return { date, time, dateTime: `${date}T${time}` };
}

/** A readable message for a date-time that could not be converted. */
export function localTimeProblem(problem: 'missing' | 'invalid' | 'nonexistent', what: string): string {
  switch (problem) {
    case 'missing':
      return `Enter the ${what}`;
    case 'invalid':
      return `Enter a real date and time for the ${what}`;
    case 'nonexistent':
      return `That ${what} does not exist in the UK: the clocks go forward an hour that night`;
  }
}

/** A date as typed into the NHS.UK date input: day, month and year boxes. */
export interface DateParts {
  day: string;
  month: string;
  year: string;
}

/** A date and a time as the form asks for them: the date input and a 24-hour time box. */
export interface DateTimeParts extends DateParts {
  time: string;
}

export const emptyDate = (): DateParts => ({ day: '', month: '', year: '' });
export const emptyDateTime = (): DateTimeParts => ({ day: '', month: '', year: '', time: '' });

/** What is wrong with a date or time as typed, in the words the form shows (see partsProblem). */
export type PartsProblem =
  | 'missing'
  | 'no-day'
  | 'no-month'
  | 'no-year'
  | 'no-time'
  | 'year-digits'
  | 'not-real'
  | 'time'
  | 'nonexistent';

export type PartsResult<T> = { ok: true; value: T } | { ok: false; problem: PartsProblem };

const MONTHS = 'january february march april may june july august september october november december'.split(' ');

/** "11", "November" or "Nov" (any start of three letters or more) as a month number; NaN otherwise. */
function monthNumber(value: string): number {
  const v = value.trim().toLowerCase().replace(/\.$/, '');
  if (/^\d{1,2}$/.test(v)) return Number(v);
  const i = v.length >= 3 ? MONTHS.findIndex((name) => name.startsWith(v)) : -1;
  return i >= 0 ? i + 1 : NaN;
}

/** A calendar date (YYYY-MM-DD) from the three boxes, as the NHS.UK date input pattern checks it. */
export function partsToDate(p: DateParts): PartsResult<string> {
  const [d, m, y] = [p.day.trim(), p.month.trim(), p.year.trim()];
  if (!d && !m && !y) return { ok: false, problem: 'missing' };
  if (!d) return { ok: false, problem: 'no-day' };
  if (!m) return { ok: false, problem: 'no-month' };
  if (!y) return { ok: false, problem: 'no-year' };
  if (!/^\d{4}$/.test(y)) return { ok: false, problem: /^\d+$/.test(y) ? 'year-digits' : 'not-real' };
  const month = monthNumber(m);
  if (!/^\d{1,2}$/.test(d) || !(month >= 1 && month <= 12)) return { ok: false, problem: 'not-real' };
  const date = `${y}-${String(month).padStart(2, '0')}-${d.padStart(2, '0')}`;
  return isCalendarDate(date) ? { ok: true, value: date } : { ok: false, problem: 'not-real' };
}

/**
 * A time of day as HH:MM. The form asks for the 24-hour clock (14:30); 14.30, 1430 and 9 are
 * read the same way, and a time written with am or pm (2:30pm) is read as meant.
 */
export function parseTime(value: string): PartsResult<string> {
  const v = value.trim().toLowerCase().replace(/\s+/g, '');
  if (!v) return { ok: false, problem: 'no-time' };
  const m = /^(\d{1,2})(?:[:.h]?(\d{2}))?(am|pm|a\.m\.|p\.m\.)?$/.exec(v);
  if (!m) return { ok: false, problem: 'time' };
  let hh = Number(m[1]);
  const mm = Number(m[2] ?? '0');
  const half = m[3]?.startsWith('a') ? 'am' : m[3]?.startsWith('p') ? 'pm' : undefined;
  if (half) {
    if (hh < 1 || hh > 12) return { ok: false, problem: 'time' };
    hh = (hh % 12) + (half === 'pm' ? 12 : 0);
  }
  if (hh > 23 || mm > 59) return { ok: false, problem: 'time' };
  return { ok: true, value: `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}` };
}

/** An instant from the date boxes and the time box, read as UK local time. */
export function partsToIso(p: DateTimeParts): PartsResult<string> {
  if (!p.day.trim() && !p.month.trim() && !p.year.trim() && !p.time.trim()) return { ok: false, problem: 'missing' };
  const date = partsToDate(p);
  if (!date.ok) return date;
  const time = parseTime(p.time);
  if (!time.ok) return time;
  const r = ukLocalToIso(date.value, time.value);
  if (r.ok) return { ok: true, value: r.iso };
  return { ok: false, problem: r.problem === 'nonexistent' ? 'nonexistent' : 'not-real' };
}

/**
 * The words for a problem, NHS.UK style: `what` names the question ("the date and time the session
 * was due to start", "the new time").
 */
export function partsProblem(problem: PartsProblem, what: string, withTime = true): string {
  const What = what.charAt(0).toUpperCase() + what.slice(1);
  switch (problem) {
    case 'missing':
      return `Enter ${what}`;
    case 'no-day':
      return `${What} must include a day`;
    case 'no-month':
      return `${What} must include a month`;
    case 'no-year':
      return `${What} must include a year`;
    case 'no-time':
      return `${What} must include a time`;
    case 'year-digits':
      return 'The year must have 4 numbers, like 2026';
    case 'not-real':
      return `${What} must be a real date${withTime ? ' and time' : ''}`;
    case 'time':
      return 'Enter the time using the 24-hour clock, like 09:30 or 14:30';
    case 'nonexistent':
      return `${What} does not exist in the UK: the clocks go forward an hour that night`;
  }
}

/** The boxes for an instant, in UK local time (to fill a form again). */
export function isoToParts(iso: string | undefined): DateTimeParts {
  const local = iso ? isoToUkLocal(iso) : undefined;
  if (!local) return emptyDateTime();
  const [y, m, d] = local.date.split('-');
  return { day: String(Number(d)), month: String(Number(m)), year: y!, time: local.time };
}

/**
 * Older pages posted one field (a date picker's 2026-11-27, or a datetime-local's
 * 2026-11-27T14:00): a form rendered before this change and sent after it still reads.
 */
export function partsFromSingle(value: string): DateTimeParts {
  const v = value.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]+(\d{1,2}[:.]\d{2}))?/.exec(v) ?? undefined;
  if (m) return { day: String(Number(m[3])), month: String(Number(m[2])), year: m[1]!, time: m[4] ?? '' };
  const uk = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:[T ]+(\d{1,2}[:.]\d{2}))?$/.exec(v);
  if (uk) return { day: uk[1]!, month: uk[2]!, year: uk[3]!, time: uk[4] ?? '' };
  return { day: v, month: '', year: '', time: '' };
}
