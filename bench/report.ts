/** The benchmark's results: the JSON shape, the metrics with their goals, the tables, the quick checks. */
import type { HappyPath, OpenCases, Throughput } from './scenarios';
import { percentile } from './scenarios';
import type { Target } from './stack';

export interface RoundResult {
  round: number;
  order: Target[];
  case: { direct: Throughput; http: Throughput; open?: OpenCases };
  baseline: { direct: Throughput; http: Throughput; open?: OpenCases };
}

interface RateStep {
  rate: number;
  seconds: number;
  sent: number;
  contacted: number;
  sustained: boolean;
  p50: number;
  p95: number;
  p99: number;
}

export interface BenchResult {
  version: 1;
  meta: {
    commit: string;
    dirty: boolean;
    date: string;
    mode: 'quick' | 'full';
    rounds: number;
    sizes: Record<string, number>;
    /** Worker options the run tried instead of the shipped ones. */
    tuning?: Record<string, unknown>;
    /** Dev server settings the run tried beside the project's (KEY=JSON_VALUE). */
    serverConfig?: string[];
    /** Where Temporal ran: a dev server of the run's own (unset) or the native cluster. */
    server?: 'cluster';
    node: string;
    cpus: number;
    cpuModel: string;
    memoryGb: number;
    loadAverageAtEnd: number;
    durationSeconds: number;
    bundleKiB: Record<Target, number>;
  };
  history: Record<Target, HappyPath>;
  rounds: RoundResult[];
  rate?: {
    sustained: Record<Target, number>;
    steps: Record<Target, RateStep[]>;
    at70: Record<Target, { rate: number; p50: number; p95: number; p99: number; contacted: number; sent: number }>;
  };
  metrics: Record<string, Metric>;
}

export interface Metric {
  label: string;
  unit: string;
  case: number;
  baseline: number;
  /** case ÷ baseline */
  ratio: number;
  goal?: string;
  met?: boolean;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
const sum = (...xs: Array<number | undefined>) =>
  xs.some((x) => x === undefined) ? undefined : xs.reduce<number>((a, x) => a + x!, 0);

/** Throughput ratios are taken per round (the two ran minutes apart at most), then the median. */
function perRound(
  result: BenchResult,
  label: string,
  unit: string,
  pick: (r: RoundResult[Target]) => number | undefined,
): Metric | undefined {
  const pairs = result.rounds
    .map((r) => [pick(r.case), pick(r.baseline)] as const)
    .filter((p): p is [number, number] => p[0] !== undefined && p[1] !== undefined);
  if (pairs.length === 0) return undefined;
  return {
    label,
    unit,
    case: median(pairs.map((p) => p[0])),
    baseline: median(pairs.map((p) => p[1])),
    ratio: median(pairs.map(([c, b]) => c / b)),
  };
}

/** Latency samples are pooled over the rounds before taking percentiles. */
function pooled(result: BenchResult, label: string, pick: (o: OpenCases) => number[], p: number): Metric | undefined {
  const samples = (t: Target) => result.rounds.flatMap((r) => (r[t].open ? pick(r[t].open) : []));
  if (samples('case').length === 0 || samples('baseline').length === 0) return undefined;
  const c = percentile(samples('case'), p);
  const b = percentile(samples('baseline'), p);
  return { label, unit: 'ms', case: c, baseline: b, ratio: c / b };
}

function goal(m: Metric | undefined, text: string, met: (m: Metric) => boolean): Metric | undefined {
  return m && { ...m, goal: text, met: met(m) };
}

const runs = (h: HappyPath) => h.counts?.join('/') ?? String(h.events);

export function metricsOf(result: BenchResult): Record<string, Metric> {
  const h = result.history;
  const metrics: Record<string, Metric | undefined> = {
    firstContactDirect: goal(
      perRound(result, 'first contact/s, direct start', '/s', (r) => r.direct.perSecond),
      'ratio ≥ 0.9',
      (m) => m.ratio >= 0.9,
    ),
    firstContactHttp: goal(
      perRound(result, 'first contact/s, HTTP', '/s', (r) => r.http.perSecond),
      'ratio ≥ 0.9',
      (m) => m.ratio >= 0.9,
    ),
    workerCpuDirect: perRound(result, 'worker CPU per case to first contact', 'ms', (r) => r.direct.workerCpuMs),
    serverCpuDirect: perRound(result, 'dev server CPU per case to first contact', 'ms', (r) => r.direct.serverCpuMs),
    webCpuHttp: perRound(result, 'web-app CPU per HTTP submission', 'ms', (r) => r.http.webCpuMs),
    cpuDirect: perRound(result, 'CPU per first contact, direct (worker + server)', 'ms', (r) =>
      sum(r.direct.workerCpuMs, r.direct.serverCpuMs),
    ),
    cpuHttp: perRound(result, 'CPU per first contact, HTTP (worker + server + web)', 'ms', (r) =>
      sum(r.http.workerCpuMs, r.http.serverCpuMs, r.http.webCpuMs),
    ),
    historyEvents: goal(
      {
        label: `happy-path history events (runs: ${runs(h.case)} vs ${runs(h.baseline)})`,
        unit: 'events',
        case: h.case.events,
        baseline: h.baseline.events,
        ratio: h.case.events / h.baseline.events,
      },
      'case ≤ 45',
      (m) => m.case <= 45,
    ),
    cachedLatenessP50: pooled(result, 'deadline → escalation p50, cached', (o) => o.cachedLatenessMs, 50),
    cachedLatenessP99: pooled(result, 'deadline → escalation p99, cached', (o) => o.cachedLatenessMs, 99),
    evictedLatenessP50: pooled(result, 'deadline → escalation p50, evicted', (o) => o.evictedLatenessMs, 50),
    evictedLatenessP99: goal(
      pooled(result, 'deadline → escalation p99, evicted', (o) => o.evictedLatenessMs, 99),
      'ratio ≤ 1.5',
      (m) => m.ratio <= 1.5,
    ),
    memoryPerCase: goal(
      perRound(result, 'worker memory per cached case', 'MB', (r) => r.open?.memoryPerCaseMb),
      'ratio ≤ 1.5 and case ≤ 0.5 MB',
      (m) => m.ratio <= 1.5 && m.case <= 0.5,
    ),
  };
  const rate = result.rate;
  if (rate) {
    const s = rate.sustained;
    metrics.sustainedHttpRate = goal(
      {
        label: 'sustained HTTP rate (p95 ≤ 1 s)',
        unit: '/s',
        case: s.case,
        baseline: s.baseline,
        ratio: s.case / s.baseline,
      },
      'ratio ≥ 0.9',
      (m) => m.ratio >= 0.9,
    );
    const a = rate.at70;
    const at = `at ${a.case.rate}/s (70 % of the case's sustained)`;
    metrics.submitContactP50 = goal(
      {
        label: `submit → email p50 ${at}`,
        unit: 'ms',
        case: a.case.p50,
        baseline: a.baseline.p50,
        ratio: a.case.p50 / a.baseline.p50,
      },
      'case ≤ 100 ms',
      (m) => m.case <= 100,
    );
    metrics.submitContactP95 = {
      label: `submit → email p95 ${at}`,
      unit: 'ms',
      case: a.case.p95,
      baseline: a.baseline.p95,
      ratio: a.case.p95 / a.baseline.p95,
    };
    metrics.submitContactP99 = goal(
      {
        label: `submit → email p99 ${at}`,
        unit: 'ms',
        case: a.case.p99,
        baseline: a.baseline.p99,
        ratio: a.case.p99 / a.baseline.p99,
      },
      'case ≤ 250 ms',
      (m) => m.case <= 250,
    );
  }
  return Object.fromEntries(Object.entries(metrics).filter((e): e is [string, Metric] => e[1] !== undefined));
}

function fmt(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '–';
  if (unit === 'MB') return value.toFixed(3);
  if (unit === 'events' || unit === 'ms') return String(Math.round(value));
  return value.toFixed(1);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function heading(r: BenchResult): string {
  const m = r.meta;
  return (
    `shortnotice bench, ${m.mode}${m.server === 'cluster' ? ', native cluster (PostgreSQL)' : ''}, commit ${m.commit}${m.dirty ? ' (with uncommitted changes)' : ''}, ${m.date}\n` +
    `${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node}, ${m.rounds} interleaved round(s), ` +
    `${m.durationSeconds} s, load average at the end ${m.loadAverageAtEnd.toFixed(1)}; ` +
    `workflow bundle ${m.bundleKiB.case} KiB (baseline ${m.bundleKiB.baseline} KiB)` +
    (m.tuning && Object.keys(m.tuning).length > 0 ? `\nworker options tried: ${JSON.stringify(m.tuning)}` : '') +
    (m.serverConfig && m.serverConfig.length > 0 ? `\ndev server settings tried: ${m.serverConfig.join(', ')}` : '')
  );
}

export function renderTable(r: BenchResult): string {
  const rows = Object.values(r.metrics).map((m) => [
    `${m.label} (${m.unit})`,
    fmt(m.case, m.unit),
    fmt(m.baseline, m.unit),
    Number.isFinite(m.ratio) ? m.ratio.toFixed(2) : '–',
    m.goal ? `${m.goal}: ${m.met ? 'met' : 'NOT met'}` : '',
  ]);
  return `${heading(r)}\n\n${table(['metric', 'case', 'baseline', 'case ÷ baseline', 'goal'], rows)}`;
}

/** The table with an older run's case value and ratio beside this run's. */
export function compareTable(r: BenchResult, old: BenchResult): string {
  const rows = Object.entries(r.metrics).map(([key, m]) => {
    const o = old.metrics[key];
    return [
      `${m.label} (${m.unit})`,
      o ? fmt(o.case, o.unit) : '–',
      fmt(m.case, m.unit),
      o && Number.isFinite(o.ratio) ? o.ratio.toFixed(2) : '–',
      Number.isFinite(m.ratio) ? m.ratio.toFixed(2) : '–',
      m.goal ? `${m.goal}: ${m.met ? 'met' : 'NOT met'}` : '',
    ];
  });
  return `${heading(r)}\ncompared with ${old.meta.commit} (${old.meta.mode}, ${old.meta.date})\n\n${table(
    [
      'metric',
      `case ${old.meta.commit}`,
      `case ${r.meta.commit}`,
      `ratio ${old.meta.commit}`,
      `ratio ${r.meta.commit}`,
      'goal',
    ],
    rows,
  )}`;
}

/**
 * Margins of the quick mode's ratios: how far a ratio may miss its goal before the check fails.
 * They cover the spread seen between back-to-back quick runs of one commit on a loaded 2-core
 * machine (docs/performance.md), so a miss means a real regression, not noise.
 */
export const QUICK_MARGINS = { throughput: 0.15, evictedLateness: 1.0, memory: 0.25 } as const;

/**
 * The quick mode's checks. Nothing absolute is timed: the history count is strict; throughput is
 * judged by CPU time per first contact (on a CPU-bound machine the rate is the inverse of the CPU
 * each case costs, and CPU time barely moves with other people's load, where a few seconds of
 * wall-clock rate does); lateness and memory by their ratio to the baseline, with margins.
 */
export function checkQuick(r: BenchResult): string[] {
  const m = r.metrics;
  const failures: string[] = [];
  const h = m.historyEvents!;
  if (h.case > 45)
    failures.push(`happy-path history is ${h.case} events (baseline ${h.baseline}); the goal is at most 45`);
  for (const key of ['cpuDirect', 'cpuHttp'] as const) {
    const t = m[key];
    if (!t) continue;
    const implied = 1 / t.ratio;
    const floor = 0.9 - QUICK_MARGINS.throughput;
    if (implied < floor)
      failures.push(
        `${t.label}: the rate it implies is ${implied.toFixed(2)}× the baseline's, ` +
          `under ${floor.toFixed(2)} (goal 0.9 less the margin)`,
      );
  }
  const late = m.evictedLatenessP99!;
  if (late.ratio > 1.5 + QUICK_MARGINS.evictedLateness)
    failures.push(
      `${late.label}: case ÷ baseline ${late.ratio.toFixed(2)} > ${1.5 + QUICK_MARGINS.evictedLateness} ` +
        '(goal 1.5 plus the margin)',
    );
  const mem = m.memoryPerCase!;
  if (mem.ratio > 1.5 + QUICK_MARGINS.memory || mem.case > 0.5 * (1 + QUICK_MARGINS.memory)) {
    failures.push(
      `${mem.label}: ${mem.case.toFixed(3)} MB, case ÷ baseline ${mem.ratio.toFixed(2)} ` +
        '(goal ≤ 0.5 MB and ≤ 1.5×, plus the margin)',
    );
  }
  return failures;
}
