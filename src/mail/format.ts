/**
 * Plain-English dates in UK time and one-line text, shared by the email and SMS wording.
 * Every date a person reads is shown in Europe/London, whatever the server's time zone.
 */
import { ApplicationFailure } from '@temporalio/common';

/** A notice the workflow built wrongly: retrying cannot fix it, so it fails at once. */
export const INVALID_NOTICE = 'InvalidNotice';

const LONDON = 'Europe/London';

const dateTimeFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: LONDON,
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

const dayFormat = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long' });

const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function invalid(field: string): never {
  // The value itself stays out of the message: it may be anything the workflow was given.
  throw ApplicationFailure.nonRetryable(`The notice has an invalid ${field}`, INVALID_NOTICE);
}

function instant(value: string, field: string): Date {
  const ms = Date.parse(value);
  if (typeof value !== 'string' || Number.isNaN(ms)) invalid(field);
  return new Date(ms);
}

/** "Thursday 27 November at 10:00" in UK time (GMT or BST as the date requires). */
export function formatWhen(iso: string, field = 'date'): string {
  const parts = Object.fromEntries(dateTimeFormat.formatToParts(instant(iso, field)).map((p) => [p.type, p.value]));
  return `${parts.weekday} ${parts.day} ${parts.month} at ${parts.hour}:${parts.minute}`;
}

/**
 * "Monday 1 December". A calendar date (2026-12-01) is a day, not an instant, so it is read as
 * written; a full timestamp is read as the day it falls on in the UK.
 */
export function formatDay(value: string, field = 'date'): string {
  const m = CALENDAR_DATE.exec(value);
  if (m) {
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 12));
    if (Number.isNaN(d.getTime()) || d.getUTCDate() !== Number(m[3])) invalid(field);
    return dayFormat.format(d).replace(',', '');
  }
  const when = formatWhen(value, field);
  return when.slice(0, when.lastIndexOf(' at '));
}

/** Control characters (CR, LF, bidi overrides...) become spaces: text stays on one line. */
export function oneLine(value: string | undefined, max = 200): string {
  if (typeof value !== 'string') return '';
  return value
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max);
}

/**
 * What a client message calls the client: the first word of the first name only. A form that
 * let someone type "Sam Jones" must not put a surname into a message a housemate may read.
 */
export function greetingName(firstName: string | undefined): string {
  const first = oneLine(firstName, 100).split(' ')[0] ?? '';
  return first.slice(0, 30);
}

/** The staff case page: sign-in required, so staff messages link here instead of carrying details. */
export function casePageUrl(publicBaseUrl: string, caseId: string): string {
  return `${publicBaseUrl}/cancellations/${encodeURIComponent(caseId)}`;
}
