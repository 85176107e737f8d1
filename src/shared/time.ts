/**
 * UK wall-clock formatting without Intl, so workflow code formats times identically on every
 * worker and replay. British Summer Time runs from 01:00 UTC on the last Sunday of March to
 * 01:00 UTC on the last Sunday of October.
 */
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

function lastSundayUtc(year: number, month: number): number {
  const lastDay = new Date(Date.UTC(year, month + 1, 0, 1));
  return lastDay.getTime() - lastDay.getUTCDay() * 86_400_000;
}

/** Offset of UK local time from UTC at the instant, in minutes (0 or 60). */
export function ukOffsetMinutes(instant: number): number {
  const year = new Date(instant).getUTCFullYear();
  return instant >= lastSundayUtc(year, 2) && instant < lastSundayUtc(year, 9) ? 60 : 0;
}

/** "Thu 27 Nov 14:00" in UK local time. */
export function formatUk(instant: number | string): string {
  const ms = typeof instant === 'string' ? Date.parse(instant) : instant;
  const local = new Date(ms + ukOffsetMinutes(ms) * 60_000);
  const hh = String(local.getUTCHours()).padStart(2, '0');
  const mm = String(local.getUTCMinutes()).padStart(2, '0');
  return `${DAYS[local.getUTCDay()]} ${local.getUTCDate()} ${MONTHS[local.getUTCMonth()]} ${hh}:${mm}`;
}

/** "Thu 27 Nov" for a calendar date (YYYY-MM-DD). */
export function formatUkDate(date: string): string {
  const d = new Date(`${date}T12:00:00Z`);
  return `${DAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}

/** The hour of the day (0-23) in UK local time. */
export function ukHour(instant: number): number {
  return new Date(instant + ukOffsetMinutes(instant) * 60_000).getUTCHours();
}

/** The UK calendar date (YYYY-MM-DD) the instant falls on. */
export function ukDate(instant: number): string {
  return new Date(instant + ukOffsetMinutes(instant) * 60_000).toISOString().slice(0, 10);
}

/**
 * The instant of `hour`:00 UK local time on a calendar date (hour 24 is the next midnight). On the
 * two clock-change days the offset is the one in force at that wall-clock time.
 */
export function ukLocalToInstant(date: string, hour: number): number {
  const asUtc = Date.parse(`${date}T00:00:00Z`) + hour * 3_600_000;
  // The offset in force an hour either side can differ only on a clock-change day; taking it at
  // the UTC guess minus one hour lands on the right side of a change at 01:00 UTC.
  const offset = ukOffsetMinutes(asUtc - 3_600_000);
  return asUtc - offset * 60_000;
}
