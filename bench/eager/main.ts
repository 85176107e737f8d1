/**
 * Eager activity execution, measured apart (docs/performance.md, "Eager activities"): the
 * benchmark's dev server flags, with `system.enableActivityEagerExecution` off and on in
 * alternating blocks, each on a fresh server; each block runs 1,000 one-activity workflows, 10 at a time,
 * on one worker in this process, and reads the server's CPU per workflow and the time from start
 * to the activity. Prints one line per block and the ratios, on ÷ off.
 *
 *   npm run bench:eager -- [--blocks 2] [--workflows 1000]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { freePort, resolveTemporalCli, waitForGrpc } from '../../src/dev/binaries';
import { DEV_SERVER_EXTRA_ARGS } from '../../test/helpers/temporal';
import { percentile, pool } from '../scenarios';
import { processCpuMs } from '../stack';
import type { EagerActivities } from './workflows';

const EAGER = 'system.enableActivityEagerExecution';

interface Block {
  eager: boolean;
  perSecond: number;
  serverCpuMs: number;
  p50: number;
  p99: number;
}

/** The dev server's CPU time; the experiment needs it, so it refuses to run where /proc cannot tell. */
function cpuMs(pid: number): number {
  const ms = processCpuMs(pid);
  if (ms === undefined) throw new Error('the experiment reads the dev server\'s CPU time from /proc (Linux only)');
  return ms;
}

async function block(cli: string, eager: boolean, workflows: number, dir: string): Promise<Block> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const args = ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  // The benchmark's server (the project's dynamic config, a faster SQLite), the setting last: it wins.
  args.push('--db-filename', path.join(dir, `${port}.db`), ...DEV_SERVER_EXTRA_ARGS, '--dynamic-config-value', `${EAGER}=${eager}`);
  const logFile = path.join(dir, `${port}.log`);
  const out = fs.openSync(logFile, 'a');
  const server = spawn(cli, args, { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  let exited = false;
  server.once('exit', () => (exited = true));
  try {
    if (!(await waitForGrpc(address, 60_000, () => exited))) {
      const said = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
      throw new Error(`the dev server ${exited ? 'exited' : 'did not answer'} on ${address}${said ? `; it said:\n${said}` : ''}`);
    }
    const connection = await Connection.connect({ address });
    const client = new Client({ connection });
    const waits: number[] = [];
    const activities: EagerActivities = {
      reached(startedAt) {
        waits.push(Date.now() - startedAt);
        return Promise.resolve();
      },
    };
    const workerConnection = await NativeConnection.connect({ address });
    const worker = await Worker.create({
      connection: workerConnection,
      taskQueue: 'eager',
      workflowsPath: require.resolve('./workflows'),
      activities,
    });
    const running = worker.run();
    const cpu = cpuMs(server.pid!);
    const started = Date.now();
    await pool(
      Array.from({ length: workflows }, (_, i) => `w-${i}`),
      10,
      async (id) => {
        const handle = await client.workflow.start('oneActivity', { taskQueue: 'eager', workflowId: id, args: [Date.now()] });
        await handle.result();
      },
    );
    const seconds = (Date.now() - started) / 1000;
    const result = { eager, perSecond: workflows / seconds, serverCpuMs: (cpuMs(server.pid!) - cpu) / workflows, p50: percentile(waits, 50), p99: percentile(waits, 99) };
    worker.shutdown();
    await running;
    await Promise.all([connection.close(), workerConnection.close()]);
    return result;
  } finally {
    server.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { blocks: { type: 'string' }, workflows: { type: 'string' } } });
  const blocks = Number(values.blocks ?? 2);
  const workflows = Number(values.workflows ?? 1000);
  if (!Number.isInteger(blocks) || blocks < 1 || !Number.isInteger(workflows) || workflows < 10)
    throw new Error('--blocks must be a whole number ≥ 1 and --workflows one ≥ 10');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const cli = await resolveTemporalCli();
  if (!cli.path) throw new Error('the experiment needs the Temporal CLI (npm run provision builds it)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shortnotice-eager-'));
  const all: Block[] = [];
  try {
    for (let b = 0; b < blocks; b++) {
      for (const eager of [false, true]) {
        const r = await block(cli.path, eager, workflows, dir);
        all.push(r);
        console.log(
          `eager ${eager ? 'on ' : 'off'}: ${r.perSecond.toFixed(1)} workflows/s, server CPU ${r.serverCpuMs.toFixed(2)} ms each, start → activity p50 ${r.p50} ms, p99 ${r.p99} ms`,
        );
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const mean = (eager: boolean, pick: (r: Block) => number) => {
    const xs = all.filter((r) => r.eager === eager).map(pick);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  for (const [name, pick] of [
    ['workflows/s', (r: Block) => r.perSecond],
    ['server CPU per workflow', (r: Block) => r.serverCpuMs],
    ['start → activity p50', (r: Block) => r.p50],
    ['start → activity p99', (r: Block) => r.p99],
  ] as const)
    console.log(`${name}, on ÷ off: ${(mean(true, pick) / mean(false, pick)).toFixed(2)}`);
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(`[eager] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
