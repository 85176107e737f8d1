/**
 * Issue 16, the lead's charts: the aggregation (pure), its visibility query, and the geometry the
 * page draws, with UK calendar days across both clock changes.
 */
import {
  addDays,
  aggregate,
  chartsQuery,
  firstDay,
  median,
  mondayOf,
  percentile90,
  type ChartCase,
} from '../../src/ops/lead-charts';
import { chartsForPage, dailyChart, formatWait, niceScale, rebookingChart } from '../../src/web/charts';

const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const cancelled = (iso: string, rebookedAfterMs?: number, completed = rebookedAfterMs !== undefined): ChartCase => ({
  cancelledAt: at(iso),
  ...(rebookedAfterMs !== undefined ? { rebookedAt: at(iso) + rebookedAfterMs } : {}),
  completed,
});

describe('C1 median and 90th percentile', () => {
  it('C1 when there are no values, then neither is given; with one, both are that value', () => {
    expect(median([])).toBeUndefined();
    expect(percentile90([])).toBeUndefined();
    expect(median([7])).toBe(7);
    expect(percentile90([7])).toBe(7);
  });

  it('C1 the median is the middle value, or the mean of the two middle values, whatever the order given', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('C1 the 90th percentile is the nearest rank: a time some client actually waited', () => {
    const tenToOne = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
    expect(percentile90(tenToOne)).toBe(9);
    expect(percentile90(Array.from({ length: 11 }, (_, i) => i + 1))).toBe(10);
    expect(percentile90([1, 100])).toBe(100);
  });
});

describe('C1 days and weeks in UK time', () => {
  it('C1 the charts cover eight weeks ending today, from a Monday, every calendar day once, across the October clock change', () => {
    const now = at('2026-11-04T10:00:00Z');
    const { days, weeks } = aggregate([], now);
    expect(days[0]!.date).toBe('2026-09-14');
    expect(new Date(`${days[0]!.date}T12:00:00Z`).getUTCDay()).toBe(1);
    expect(days[days.length - 1]!.date).toBe('2026-11-04');
    for (let i = 1; i < days.length; i++) expect(days[i]!.date).toBe(addDays(days[i - 1]!.date, 1));
    expect(days.map((d) => d.date)).toContain('2026-10-25');
    expect(weeks.map((w) => w.weekStart)).toEqual([
      '2026-09-14',
      '2026-09-21',
      '2026-09-28',
      '2026-10-05',
      '2026-10-12',
      '2026-10-19',
      '2026-10-26',
      '2026-11-02',
    ]);
    expect(weeks[0]!.label).toBe('w/c Mon 14 Sep');
  });

  it('C1 when a cancellation falls just after midnight in summer time, then it counts on the UK day, not the UTC one, on both sides of each clock change', () => {
    const autumn = aggregate(
      [
        cancelled('2026-10-24T23:30:00Z'), // 00:30 BST on Sun 25 Oct
        cancelled('2026-10-25T00:30:00Z'), // 01:30 BST on Sun 25 Oct (the clocks go back at 01:00 UTC)
        cancelled('2026-10-25T23:30:00Z'), // 23:30 GMT on Sun 25 Oct
        cancelled('2026-10-26T00:10:00Z'), // 00:10 GMT on Mon 26 Oct
      ],
      at('2026-10-30T12:00:00Z'),
    );
    const count = (charts: ReturnType<typeof aggregate>, date: string) =>
      charts.days.find((d) => d.date === date)?.count;
    expect(count(autumn, '2026-10-24')).toBe(0);
    expect(count(autumn, '2026-10-25')).toBe(3);
    expect(count(autumn, '2026-10-26')).toBe(1);

    const spring = aggregate(
      [
        cancelled('2026-03-28T23:59:00Z'), // 23:59 GMT on Sat 28 Mar
        cancelled('2026-03-29T23:30:00Z'), // 00:30 BST on Mon 30 Mar
      ],
      at('2026-04-02T12:00:00Z'),
    );
    expect(count(spring, '2026-03-28')).toBe(1);
    expect(count(spring, '2026-03-29')).toBe(0);
    expect(count(spring, '2026-03-30')).toBe(1);
  });

  it('C1 when a case is cancelled at 00:30 on a Monday in summer time (Sunday in UTC), then its time to rebook counts in the week that Monday starts', () => {
    const charts = aggregate([cancelled('2026-07-12T23:30:00Z', 5 * HOUR)], at('2026-07-20T12:00:00Z'));
    expect(mondayOf('2026-07-13')).toBe('2026-07-13');
    const week = charts.weeks.find((w) => w.weekStart === '2026-07-13');
    expect(week).toMatchObject({ cases: 1, medianMs: 5 * HOUR, p90Ms: 5 * HOUR });
    expect(charts.weeks.find((w) => w.weekStart === '2026-07-06')?.cases).toBe(0);
  });
});

describe('C1 what counts towards each chart', () => {
  const now = at('2026-11-26T12:00:00Z');
  const charts = aggregate(
    [
      cancelled('2026-11-23T09:00:00Z', 2 * HOUR),
      cancelled('2026-11-23T10:00:00Z', 4 * HOUR),
      cancelled('2026-11-24T10:00:00Z', 30 * HOUR),
      cancelled('2026-11-24T11:00:00Z', 3 * HOUR, false), // rebooked, records still owed: not completed
      cancelled('2026-11-25T11:00:00Z'), // still open
      { cancelledAt: at('2026-11-25T12:00:00Z'), completed: true }, // closed without a rebooking
      cancelled('2026-08-01T10:00:00Z', HOUR), // before the first day
    ],
    now,
  );

  it('C1 every case cancelled in the range counts on its day, open, completed or closed; one before the range does not', () => {
    expect(charts.days.filter((d) => d.count > 0).map((d) => [d.date, d.count])).toEqual([
      ['2026-11-23', 2],
      ['2026-11-24', 2],
      ['2026-11-25', 2],
    ]);
  });

  it('C1 only completed cases with a rebooking count towards the time to rebook; weeks without one are empty, not zero', () => {
    const week = charts.weeks.find((w) => w.weekStart === '2026-11-23')!;
    expect(week).toEqual({
      weekStart: '2026-11-23',
      label: 'w/c Mon 23 Nov',
      cases: 3,
      medianMs: 4 * HOUR,
      p90Ms: 30 * HOUR,
    });
    const empty = charts.weeks.filter((w) => w.weekStart !== '2026-11-23');
    expect(empty).toHaveLength(7);
    for (const w of empty) expect(w).toEqual({ weekStart: w.weekStart, label: w.label, cases: 0 });
  });

  it('C1 the page describes each chart in a sentence, with the busiest day and the range of waits', () => {
    const page = chartsForPage(charts);
    expect(page.daily.text).toBe(
      '6 cancellations from Mon 5 Oct to Thu 26 Nov; the most in one day was 2, on Mon 23 Nov.',
    );
    expect(page.rebooking.text).toBe(
      'For completed cases, by the week they were cancelled: the median time to rebook was 4 hours, and the 90th percentile 30 hours. 7 of 8 weeks had no completed case.',
    );
    expect(page.rebooking.rows.find((r) => r.cases === 0)).toMatchObject({ median: undefined, p90: undefined });
    expect(chartsForPage(aggregate([], now)).rebooking.text).toMatch(
      /^No case cancelled since Mon 5 Oct has been completed yet/,
    );
  });
});

describe('C2 the visibility query', () => {
  it('C2 the query is bounded to cases cancelled since the first day shown (UK midnight, in Unix seconds), each case once, with cases older than the attribute counted by their start', () => {
    const now = at('2026-11-26T12:00:00Z');
    expect(firstDay(now)).toBe('2026-10-05');
    // 00:00 BST on 5 Oct is 23:00 UTC on 4 Oct.
    const since = at('2026-10-04T23:00:00Z') / 1000;
    expect(chartsQuery(now)).toBe(
      "WorkflowType = 'cancellationCase' AND ExecutionStatus != 'ContinuedAsNew' AND " +
        `(CancelledAtUnix >= ${since} OR (CancelledAtUnix IS NULL AND StartTime >= '2026-10-04T23:00:00.000Z'))`,
    );
  });
});

describe('C2 the chart geometry', () => {
  it('C2 the y axis tops at a round number at or above the largest value', () => {
    expect(niceScale(7)).toEqual({ top: 8, step: 2 });
    expect(niceScale(0)).toEqual({ top: 4, step: 1 });
    expect(niceScale(38)).toEqual({ top: 40, step: 10 });
  });

  it('C2 a day with twice the cancellations has a bar twice as tall; a day with none has no bar; Mondays are labelled', () => {
    const charts = aggregate(
      [cancelled('2026-11-23T09:00:00Z'), cancelled('2026-11-24T09:00:00Z'), cancelled('2026-11-24T10:00:00Z')],
      at('2026-11-26T12:00:00Z'),
    );
    const svg = dailyChart(charts.days);
    expect(svg.bars).toHaveLength(2);
    expect(svg.bars[1]!.height).toBeCloseTo(svg.bars[0]!.height * 2, 0);
    expect(svg.bars[0]!.y + svg.bars[0]!.height).toBeCloseTo(svg.plot.bottom, 0);
    expect(svg.bars[0]!.title).toBe('Mon 23 Nov: 1 cancellation');
    expect(svg.xLabels.map((l) => l.label)).toEqual([
      '5 Oct',
      '12 Oct',
      '19 Oct',
      '26 Oct',
      '2 Nov',
      '9 Nov',
      '16 Nov',
      '23 Nov',
    ]);
  });

  it('C2 waits are drawn in hours, or in days once the longest reaches three days, and written in plain words', () => {
    const week = (p90Ms: number) => ({
      weekStart: '2026-11-23',
      label: 'w/c Mon 23 Nov',
      cases: 2,
      medianMs: p90Ms / 2,
      p90Ms,
    });
    expect(rebookingChart([week(30 * HOUR)]).unit).toBe('hours');
    expect(rebookingChart([week(96 * HOUR)]).unit).toBe('days');
    expect(rebookingChart([week(30 * HOUR)]).bars.map((b) => b.series)).toEqual(['median', 'p90']);
    expect(formatWait(20 * 60_000)).toBe('20 minutes');
    expect(formatWait(1.25 * HOUR)).toBe('1.3 hours');
    expect(formatWait(30 * HOUR)).toBe('30 hours');
    expect(formatWait(60 * HOUR)).toBe('2.5 days');
  });
});
