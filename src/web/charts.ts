/**
 * The lead's two charts as SVG geometry, computed here and drawn by a template
 * (views/partials/lead-charts.njk), so the page needs no script: a chart library would bring
 * JavaScript (which our CSP keeps to our own files) to draw two bar charts that are a few
 * rectangles and labels. Each chart comes with a sentence a screen reader says in its place;
 * the page also offers the numbers as a table.
 */
import type { DayCount, LeadCharts, WeekRebooking } from '../ops/lead-charts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  /** CSS modifier: which series the bar belongs to. */
  series: 'count' | 'median' | 'p90';
  /** What a pointer over the bar shows (the SVG <title> of the bar). */
  title: string;
}

export interface ChartGeometry {
  width: number;
  height: number;
  plot: { left: number; right: number; top: number; bottom: number };
  bars: Bar[];
  yTicks: { y: number; label: string }[];
  xLabels: { x: number; label: string }[];
  /** The axis's unit, as the y axis is labelled ("cancellations", "hours", "days"). */
  unit: string;
}

const WIDTH = 720;
const HEIGHT = 260;
const PLOT = { left: 48, right: WIDTH - 12, top: 16, bottom: HEIGHT - 40 };

/** A round top for the y axis at or above `max`, and its tick step (1, 2 or 5 times a power of ten). */
export function niceScale(max: number, ticks = 4): { top: number; step: number } {
  if (!(max > 0)) return { top: ticks, step: 1 };
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step) * step, step };
}

/** A wait in plain words: minutes, hours (one decimal under ten) or days (one decimal). */
export function formatWait(ms: number): string {
  if (ms < HOUR) {
    const minutes = Math.max(1, Math.round(ms / 60_000));
    return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  }
  if (ms < 2 * DAY) {
    const hours = ms < 10 * HOUR ? Math.round((ms / HOUR) * 10) / 10 : Math.round(ms / HOUR);
    return `${hours} hour${hours === 1 ? '' : 's'}`;
  }
  const days = Math.round((ms / DAY) * 10) / 10;
  return `${days} days`;
}

function yTicks(top: number, step: number, format: (v: number) => string) {
  const scale = (PLOT.bottom - PLOT.top) / top;
  const out: { y: number; label: string }[] = [];
  for (let v = 0; v <= top + step / 2; v += step) out.push({ y: round(PLOT.bottom - v * scale), label: format(v) });
  return out;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Cancellations per day: one bar a day, the Mondays labelled. */
export function dailyChart(days: readonly DayCount[]): ChartGeometry {
  const max = Math.max(0, ...days.map((d) => d.count));
  const { top, step } = niceScale(max);
  const slot = (PLOT.right - PLOT.left) / Math.max(days.length, 1);
  const scale = (PLOT.bottom - PLOT.top) / top;
  const bars = days
    .map((d, i): Bar | undefined =>
      d.count === 0
        ? undefined
        : {
            x: round(PLOT.left + i * slot + slot * 0.15),
            y: round(PLOT.bottom - d.count * scale),
            width: round(slot * 0.7),
            height: round(d.count * scale),
            series: 'count',
            title: `${d.label}: ${d.count} cancellation${d.count === 1 ? '' : 's'}`,
          },
    )
    .filter((b): b is Bar => b !== undefined);
  const xLabels = days
    .map((d, i) => ({ d, i }))
    .filter(({ d }) => new Date(`${d.date}T12:00:00Z`).getUTCDay() === 1)
    .map(({ d, i }) => ({ x: round(PLOT.left + i * slot), label: d.label.replace(/^\w{3} /, '') }));
  return {
    width: WIDTH,
    height: HEIGHT,
    plot: PLOT,
    bars,
    yTicks: yTicks(top, step, (v) => String(v)),
    xLabels,
    unit: 'cancellations',
  };
}

/** Time to rebook per week of cancellation: the median and the 90th percentile side by side. */
export function rebookingChart(weeks: readonly WeekRebooking[]): ChartGeometry {
  const max = Math.max(0, ...weeks.map((w) => w.p90Ms ?? 0));
  const inDays = max >= 3 * DAY;
  const unitMs = inDays ? DAY : HOUR;
  const { top, step } = niceScale(max / unitMs);
  const slot = (PLOT.right - PLOT.left) / Math.max(weeks.length, 1);
  const scale = (PLOT.bottom - PLOT.top) / top;
  const bars: Bar[] = [];
  weeks.forEach((w, i) => {
    const series: ['median' | 'p90', number | undefined][] = [
      ['median', w.medianMs],
      ['p90', w.p90Ms],
    ];
    series.forEach(([name, ms], j) => {
      if (ms === undefined) return;
      const h = Math.max((ms / unitMs) * scale, 1);
      bars.push({
        x: round(PLOT.left + i * slot + slot * (0.15 + j * 0.35)),
        y: round(PLOT.bottom - h),
        width: round(slot * 0.33),
        height: round(h),
        series: name,
        title: `${w.label}: ${name === 'median' ? 'median' : '90th percentile'} ${formatWait(ms)}`,
      });
    });
  });
  return {
    width: WIDTH,
    height: HEIGHT,
    plot: PLOT,
    bars,
    yTicks: yTicks(top, step, (v) => String(v)),
    xLabels: weeks.map((w, i) => ({
      x: round(PLOT.left + i * slot + slot * 0.15),
      label: w.label.replace(/^w\/c \w{3} /, ''),
    })),
    unit: inDays ? 'days' : 'hours',
  };
}

/** What a screen reader says for each chart, and what the data tables hold. */
export function chartsForPage(charts: LeadCharts) {
  const { days, weeks } = charts;
  const total = days.reduce((n, d) => n + d.count, 0);
  const busiest = days.reduce<DayCount | undefined>((b, d) => (d.count > (b?.count ?? 0) ? d : b), undefined);
  const first = days[0]?.label ?? '';
  const last = days[days.length - 1]?.label ?? '';
  const dailyText =
    total === 0
      ? `No cancellations from ${first} to ${last}.`
      : `${total} cancellation${total === 1 ? '' : 's'} from ${first} to ${last}; the most in one day was ${busiest!.count}, on ${busiest!.label}.`;
  const known = weeks.filter((w) => w.medianMs !== undefined);
  const range = (pick: (w: WeekRebooking) => number) => {
    const values = known.map(pick);
    const lo = formatWait(Math.min(...values));
    const hi = formatWait(Math.max(...values));
    return lo === hi ? lo : `from ${lo} to ${hi}`;
  };
  const rebookText =
    known.length === 0
      ? `No case cancelled since ${first} has been completed yet, so there is no time to rebook to show.`
      : `For completed cases, by the week they were cancelled: the median time to rebook was ${range((w) => w.medianMs!)}, ` +
        `and the 90th percentile ${range((w) => w.p90Ms!)}. ` +
        `${weeks.length - known.length} of ${weeks.length} weeks had no completed case.`;
  return {
    daily: { svg: dailyChart(days), text: dailyText, rows: days },
    rebooking: {
      svg: rebookingChart(weeks),
      text: rebookText,
      rows: weeks.map((w) => ({
        ...w,
        median: w.medianMs === undefined ? undefined : formatWait(w.medianMs),
        p90: w.p90Ms === undefined ? undefined : formatWait(w.p90Ms),
      })),
    },
    total: charts.total,
    capped: charts.capped,
  };
}
