/**
 * The numbers behind the clinical lead's two charts, from visibility alone (no case is asked for
 * its details, and no client detail is read): cancellations per UK calendar day over the last
 * eight weeks, and, per week of cancellation, how long completed cases took from the cancellation
 * to the client being rebooked (median and 90th percentile).
 *
 * One bounded query: every case cancelled since the first day shown, a thousand a page, up to a
 * cap; past the cap the page says the charts are incomplete. The aggregation is a pure function.
 */
import type { Client } from '@temporalio/client';
// The SDK decodes typed attributes this way inside its own list(); it is not re-exported.
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { CancelledAtUnix, CaseStage, RebookedAtUnix } from '../shared/search-attributes';
import { formatUkDate, ukDate, ukLocalToInstant } from '../shared/time';
import { ALL_CASES, rfc3339 } from './visibility';

export const CHART_DAYS = 56;
export const CHART_WEEKS = 8;
/** The most cases read for the charts: at a thousand a page, five round trips to visibility. */
export const CHART_CAP = 5_000;
const PAGE = 1_000;
const DAY_MS = 86_400_000;

/** One case as the charts see it: two instants and whether it is complete. */
export interface ChartCase {
  cancelledAt: number;
  rebookedAt?: number;
  completed: boolean;
}

export interface DayCount {
  /** YYYY-MM-DD, a UK calendar day. */
  date: string;
  /** "Mon 5 Oct". */
  label: string;
  count: number;
}

export interface WeekRebooking {
  /** The Monday the week starts on (YYYY-MM-DD, UK). */
  weekStart: string;
  /** "w/c Mon 5 Oct". */
  label: string;
  /** Completed cases cancelled that week, with a rebooking. */
  cases: number;
  medianMs?: number;
  p90Ms?: number;
}

export interface LeadCharts {
  days: DayCount[];
  weeks: WeekRebooking[];
  /** Cases read. */
  total: number;
  /** True when the cap was reached: older days may be missing cases. */
  capped: boolean;
}

/** The calendar date `n` days after `date` (YYYY-MM-DD), whatever the clocks do. */
export function addDays(date: string, n: number): string {
  return new Date(Date.parse(`${date}T12:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** The Monday on or before `date`. */
export function mondayOf(date: string): string {
  const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
  return addDays(date, -((weekday + 6) % 7));
}

/** The first UK day the charts show: eight whole weeks ending today, the first starting on a Monday. */
export function firstDay(now: number): string {
  return mondayOf(addDays(ukDate(now), -(CHART_DAYS - 7)));
}

/**
 * The median: the middle value, or the mean of the two middle values. Undefined for no values.
 */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The 90th percentile by nearest rank: the smallest value with at least 90% of the values at or
 * below it (so it is always a time some client actually waited). Undefined for no values.
 */
export function percentile90(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(0.9 * sorted.length) - 1]!;
}

/**
 * Days and weeks from `first` (a Monday) to today, UK time: every day and week present, those
 * with no case at zero or empty, and cases outside the range ignored.
 */
export function aggregate(cases: readonly ChartCase[], now: number, capped = false): LeadCharts {
  const first = firstDay(now);
  const today = ukDate(now);
  const days: DayCount[] = [];
  for (let d = first; d <= today; d = addDays(d, 1)) days.push({ date: d, label: formatUkDate(d), count: 0 });
  const byDay = new Map(days.map((d) => [d.date, d]));
  const waits = new Map<string, number[]>();
  for (let w = first; w <= today; w = addDays(w, 7)) waits.set(w, []);
  for (const c of cases) {
    const day = byDay.get(ukDate(c.cancelledAt));
    if (!day) continue;
    day.count++;
    if (c.completed && c.rebookedAt !== undefined && c.rebookedAt >= c.cancelledAt) {
      waits.get(mondayOf(day.date))!.push(c.rebookedAt - c.cancelledAt);
    }
  }
  const weeks = [...waits].map(([weekStart, ms]): WeekRebooking => {
    const m = median(ms);
    const p = percentile90(ms);
    return {
      weekStart,
      label: `w/c ${formatUkDate(weekStart)}`,
      cases: ms.length,
      ...(m !== undefined ? { medianMs: m } : {}),
      ...(p !== undefined ? { p90Ms: p } : {}),
    };
  });
  return { days, weeks, total: cases.length, capped };
}

/**
 * Every case cancelled since the first day shown, each run once (a case that continued as new is
 * its last run). Cases started before CancelledAtUnix existed count by their start time.
 */
export function chartsQuery(now: number): string {
  const since = ukLocalToInstant(firstDay(now), 0);
  return (
    `${ALL_CASES} AND ExecutionStatus != 'ContinuedAsNew' AND (${CancelledAtUnix.name} >= ${Math.floor(since / 1000)}` +
    ` OR (${CancelledAtUnix.name} IS NULL AND StartTime >= '${rfc3339(since)}'))`
  );
}

type Timestamp = { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined;
const msOf = (t: Timestamp) =>
  t?.seconds === undefined || t.seconds === null ? undefined : Number(t.seconds.toString()) * 1000;

/** Reads the cases of `chartsQuery`, up to `cap`, as the aggregation wants them. */
export async function readChartCases(
  client: Client,
  query: string,
  cap = CHART_CAP,
): Promise<{ cases: ChartCase[]; capped: boolean }> {
  const cases: ChartCase[] = [];
  let token: Uint8Array | undefined;
  do {
    const res = await client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query,
      pageSize: Math.min(PAGE, cap - cases.length),
      nextPageToken: token,
    });
    for (const raw of res.executions) {
      const sa = decodeTypedSearchAttributes(raw.searchAttributes?.indexedFields);
      const cancelled = sa.get(CancelledAtUnix);
      const cancelledAt = cancelled !== undefined ? cancelled * 1000 : msOf(raw.startTime);
      if (cancelledAt === undefined) continue;
      const rebooked = sa.get(RebookedAtUnix);
      cases.push({
        cancelledAt,
        ...(rebooked !== undefined ? { rebookedAt: rebooked * 1000 } : {}),
        completed: sa.get(CaseStage) === 'completed',
      });
    }
    token = res.nextPageToken && res.nextPageToken.length > 0 ? res.nextPageToken : undefined;
  } while (token && cases.length < cap);
  return { cases: cases.slice(0, cap), capped: token !== undefined };
}
