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
