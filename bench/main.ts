/**
 * `npm run bench`: the case workflow against a baseline workflow of the same shape, on a dev
 * server, worker and web app of the benchmark's own, in interleaved rounds. Prints a table of
 * ratios and writes JSON for comparing commits.
 *
 *   npm run bench                          full run (about 20 minutes on 2 cores)
 *   npm run bench -- --quick               check of the ratios (about 5 minutes; exit 1 on a miss)
 *   npm run bench -- --compare old.json    adds the old run's numbers to the table
 *   npm run bench -- --out file.json       where the JSON goes (default var/bench/<time>.json)
 *   npm run bench -- --report run.json     a saved run's table again (with --compare, beside another)
 *   npm run bench -- --rounds 3            interleaved rounds (default 2; quick 3)
 *   npm run bench -- --sizes '{"open":500}'  other sizes (see FULL), e.g. to try the bench itself
 *   npm run bench -- --tuning '{"maxCachedWorkflows":500}'  other worker options, for both workers
 *   npm run bench -- --server-config system.enableActivityEagerExecution=false  a dev server setting to try (repeatable)
 *   npm run bench -- --cluster             against the native cluster (PostgreSQL, mutual TLS) instead of a dev server
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { encryptedDataConverter } from '../src/temporal/codec';
import { loadConfig } from '../src/config';
import { checkQuick, compareTable, metricsOf, renderTable, type BenchResult, type RoundResult } from './report';
import {
  atRate,
  caseService,
  firstContactThroughput,
  happyPath,
  openCases,
  percentile,
  submitHttp,
  type HappyPath,
  type RateRun,
} from './scenarios';
import type { WorkerSpec } from './processes/ipc';
import { type Child, defaultWorkDir, Stack, type Target, TARGETS } from './stack';

interface Sizes {
  throughputCases: number;
  concurrency: number;
  open: number;
  probes: number;
  /** Seconds per rate step; 0 skips the rate search. */
  rateSeconds: number;
}

const FULL: Sizes = { throughputCases: 200, concurrency: 16, open: 1_000, probes: 40, rateSeconds: 20 };
const QUICK: Sizes = { throughputCases: 60, concurrency: 16, open: 150, probes: 20, rateSeconds: 0 };

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function gitCommit(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      compare: { type: 'string' },
      out: { type: 'string' },
      rounds: { type: 'string' },
      sizes: { type: 'string' },
      tuning: { type: 'string' },
      'server-config': { type: 'string', multiple: true },
      report: { type: 'string' },
      cluster: { type: 'boolean', default: false },
    },
  });
  // Worker options to try, on the case and the baseline worker alike (e.g. '{"reuseV8Context":false}').
  const tuning = values.tuning ? (JSON.parse(values.tuning) as NonNullable<WorkerSpec['tuning']>) : {};
  const quick = values.quick ?? false;
  const sizes: Sizes = {
    ...(quick ? QUICK : FULL),
    ...(values.sizes ? (JSON.parse(values.sizes) as Partial<Sizes>) : {}),
  };
  const rounds = Number(values.rounds ?? (quick ? 3 : 2));
  // 0 rounds: the histories and the rate search alone (full mode).
  if (!Number.isInteger(rounds) || rounds < (quick ? 1 : 0))
    throw new Error('--rounds must be a whole number (at least 1 with --quick)');
  const old = values.compare ? readResult(values.compare) : undefined;
  if (values.report) {
    // A saved run's table again, with today's metric definitions (and another run beside it).
    const saved = readResult(values.report);
    process.stdout.write(`${old ? compareTable(saved, old) : renderTable(saved)}\n`);
    return 0;
  }

  const began = Date.now();
  const workDir = defaultWorkDir();
  // Dev server settings to try (e.g. --server-config system.enableActivityEagerExecution=false).
  const serverConfig = values['server-config'] ?? [];
  for (const value of serverConfig) if (!/^[\w.]+=.+$/.test(value)) throw new Error(`--server-config takes KEY=JSON_VALUE, not ${value}`);
  const cluster = values.cluster ?? false;
  if (cluster && serverConfig.length > 0) throw new Error('--server-config sets the dev server; --cluster runs none');
  const stack = new Stack({ workDir, log, serverConfig, cluster });
  const workers = new Map<Target, Child>();
  const webs = new Map<Target, Child>();
  let connection: Connection | undefined;
  // Ctrl-C or a CI timeout: stop the server and the children before going.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      void stack.stop().finally(() => {
        fs.rmSync(workDir, { recursive: true, force: true });
        process.exit(130);
      });
    });
  }
  try {
    await stack.start();
    const config = loadConfig(stack.env('case'));
    connection = await stack.connect();
    const client = new Client({ connection, dataConverter: encryptedDataConverter(config.payloadKeys) });
    const restart = async (target: Target, extra?: WorkerSpec['tuning']) => {
      await workers.get(target)?.stop();
      const worker = await stack.startWorker(target, { ...tuning, ...extra });
      workers.set(target, worker);
      return worker;
    };
    for (const target of TARGETS) {
      webs.set(target, await stack.startWeb(target));
      await restart(target);
    }

    log('happy-path histories');
    // Two confirmations run side by side, so their completions land in one workflow task or two,
    // as timing has it: three runs each, and the table reports the longest.
    const history = {} as BenchResult['history'];
    for (const target of TARGETS) {
      const runs: HappyPath[] = [];
      for (let i = 0; i < 3; i++) runs.push(await happyPath(stack, client, caseService(client, stack, target), target));
      const longest = runs.reduce((a, b) => (b.events > a.events ? b : a));
      history[target] = { ...longest, counts: runs.map((h) => h.events) };
    }

    const roundResults: RoundResult[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate who goes first, so a drift in the machine's load falls on both alike.
      const order = r % 2 === 0 ? [...TARGETS] : [...TARGETS].reverse();
      const round: RoundResult = { round: r + 1, order, case: undefined!, baseline: undefined! };
      for (const target of order) {
        log(`round ${r + 1}: ${target}`);
        const worker = await restart(target);
        const web = webs.get(target)!;
        const direct = caseService(client, stack, target);
        // Warm up: the first cases of a fresh worker pay for JIT and connection set-up.
        await firstContactThroughput(
          stack,
          worker,
          async (c) => void (await direct.submit(c.submission)),
          target,
          30,
          8,
        );
        const directRun = await firstContactThroughput(
          stack,
          worker,
          async (c) => void (await direct.submit(c.submission)),
          target,
          sizes.throughputCases,
          sizes.concurrency,
        );
        const httpRun = await firstContactThroughput(
          stack,
          worker,
          async (c) => void (await submitHttp(web, c)),
          target,
          sizes.throughputCases,
          sizes.concurrency,
          web,
        );
        // Quick mode opens many cases in the first round only: it is the slowest part.
        const open =
          !quick || r === 0
            ? await openCases(stack, client, target, (extra) => restart(target, extra), sizes)
            : undefined;
        round[target] = { direct: directRun, http: httpRun, open };
        log(
          `  ${target}: ${directRun.perSecond.toFixed(1)}/s direct, ${httpRun.perSecond.toFixed(1)}/s HTTP` +
            (open
              ? `, ${open.memoryPerCaseMb.toFixed(3)} MB/case, evicted p99 ${percentile(open.evictedLatenessMs, 99)} ms`
              : ''),
        );
      }
      roundResults.push(round);
    }

    let rate: BenchResult['rate'];
    if (sizes.rateSeconds > 0) rate = await rateSearch(stack, webs, restart, sizes.rateSeconds);

    const result: BenchResult = {
      version: 1,
      meta: {
        ...gitCommit(),
        date: new Date().toISOString(),
        mode: quick ? 'quick' : 'full',
        rounds,
        sizes: { ...sizes },
        tuning,
        ...(serverConfig.length > 0 ? { serverConfig } : {}),
        ...(cluster ? { server: 'cluster' as const } : {}),
        node: process.version,
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryGb: Math.round(os.totalmem() / 2 ** 30),
        loadAverageAtEnd: os.loadavg()[0]!,
        durationSeconds: Math.round((Date.now() - began) / 1000),
        bundleKiB: {
          case: Math.round(stack.bundleSize('case') / 1024),
          baseline: Math.round(stack.bundleSize('baseline') / 1024),
        },
      },
      history,
      rounds: roundResults,
      rate,
      metrics: {},
    };
    result.metrics = metricsOf(result);

    const out =
      values.out ?? path.join('var', 'bench', `${result.meta.date.replace(/[:.]/g, '-')}-${result.meta.commit}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`\n${old ? compareTable(result, old) : renderTable(result)}\n`);
    process.stdout.write(`\nJSON: ${out}\n`);
    if (quick) {
      const failures = checkQuick(result);
      for (const f of failures) process.stdout.write(`QUICK CHECK FAILED: ${f}\n`);
      process.stdout.write(
        failures.length === 0 ? 'quick checks passed\n' : `${failures.length} quick check(s) failed\n`,
      );
      return failures.length === 0 ? 0 : 1;
    }
    return 0;
  } finally {
    await connection?.close();
    await stack.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

function readResult(file: string): BenchResult {
  const result = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResult;
  return { ...result, metrics: metricsOf(result) };
}

/** Halvings of the gap between the last rate kept up with and the first failed (rateSearch). */
const REFINEMENTS = 2;

/**
 * Steps the offered HTTP rate up by a quarter at a time, case and baseline side by side, until
 * each stops keeping up, then narrows the last step down; then measures submit → contact at 70 %
 * of the case's sustained rate.
 */
async function rateSearch(
  stack: Stack,
  webs: Map<Target, Child>,
  restart: (t: Target) => Promise<Child>,
  seconds: number,
): Promise<NonNullable<BenchResult['rate']>> {
  const runs: Record<Target, RateRun[]> = { case: [], baseline: [] };
  // The rate each target failed at (twice), once it has.
  const failedAt = new Map<Target, number>();
  // A rate fails only when a second try fails too: one burst of other people's load on a shared
  // machine can spoil 20 seconds. Each try gets a fresh worker, so no step inherits open cases.
  const keepsUp = async (target: Target, rate: number): Promise<boolean> => {
    for (let attempt = 1; attempt <= 2; attempt++) {
      await restart(target);
      const run = await atRate(stack, webs.get(target)!, target, rate, seconds);
      runs[target].push(run);
      log(`  rate ${rate}/s ${target}: ${run.contacted}/${run.sent} contacted, p95 ${percentile(run.latencyMs, 95)} ms`);
      if (run.sustained) return true;
    }
    return false;
  };
  for (let rate = 6; failedAt.size < TARGETS.length && rate <= 80; rate = Math.round(rate * 1.25)) {
    for (const target of TARGETS) {
      if (!failedAt.has(target) && !(await keepsUp(target, rate))) failedAt.set(target, rate);
    }
  }
  // Steps only go up, and stop at a rate failed twice: the highest rate kept up with is the answer.
  const sustained = (t: Target) => Math.max(0, ...runs[t].filter((r) => r.sustained).map((r) => r.rate));
  // A quarter is too coarse to tell a ratio of 0.9 (two targets a step apart read 0.8, in the same
  // step 1.0): two halvings of the gap between the last rate kept up with and the first failed, in
  // geometric steps (about 12 %, then 6 %), for each target alike.
  for (const target of TARGETS) {
    let high = failedAt.get(target);
    for (let i = 0; i < REFINEMENTS && high !== undefined; i++) {
      const low = sustained(target);
      const mid = Math.round(Math.sqrt(low * high) * 10) / 10;
      if (low === 0 || mid <= low || mid >= high) break;
      if (!(await keepsUp(target, mid))) high = mid;
    }
  }
  const at = Math.max(1, Math.round(0.7 * sustained('case') * 10) / 10);
  const at70 = {} as NonNullable<BenchResult['rate']>['at70'];
  for (const target of TARGETS) {
    await restart(target);
    const run = await atRate(stack, webs.get(target)!, target, at, 30);
    at70[target] = {
      rate: at,
      p50: percentile(run.latencyMs, 50),
      p95: percentile(run.latencyMs, 95),
      p99: percentile(run.latencyMs, 99),
      contacted: run.contacted,
      sent: run.sent,
    };
    log(`  ${at}/s ${target}: p50 ${at70[target].p50} ms, p99 ${at70[target].p99} ms`);
  }
  const summary = (t: Target) =>
    runs[t].map(({ latencyMs, ...r }) => ({
      ...r,
      p50: percentile(latencyMs, 50),
      p95: percentile(latencyMs, 95),
      p99: percentile(latencyMs, 99),
    }));
  return {
    sustained: { case: sustained('case'), baseline: sustained('baseline') },
    steps: { case: summary('case'), baseline: summary('baseline') },
    at70,
  };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
