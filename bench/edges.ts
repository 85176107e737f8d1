/**
 * `npm run bench:edges`: the path from an HTTP submission to the first email, piece by piece, in
 * this process: validating the submission, starting the case (with its own dev server, no worker:
 * a start needs none), rendering the email, and sending it over SMTP to the measuring sink. Each
 * piece is timed through its public entry point, so the same script measures any commit.
 *
 *   npm run bench:edges -- --out edges.json
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createActivities } from '../activities';
import { loadConfig } from '../src/config';
import { SmtpMailer } from '../src/mail/smtp';
import { submissionSchema } from '../src/shared/api';
import type { ClientNotice } from '../src/shared/activities';
import { encryptedDataConverter } from '../src/temporal/codec';
import { caseService, newCase, percentile, pool } from './scenarios';
import { defaultWorkDir, Stack } from './stack';

const log = (line: string) => process.stderr.write(`[edges] ${line}\n`);

interface Piece {
  piece: string;
  /** Wall-clock time (or rate): what a caller sees, but it moves with the machine's other load. */
  value: number;
  unit: string;
  /** CPU time per operation of this process (and of the dev server, for starts), in ms: steadier. */
  cpuMs?: number;
  note?: string;
}

function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Mean wall and CPU time per call in microseconds, after a warm-up. */
function microsPerCall(fn: () => void, calls: number): { wall: number; cpu: number } {
  for (let i = 0; i < Math.min(200, calls); i++) fn();
  const cpu = cpuNow();
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) fn();
  return { wall: Number(process.hrtime.bigint() - started) / 1000 / calls, cpu: ((cpuNow() - cpu) * 1000) / calls };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const pieces: Piece[] = [];
  const workDir = defaultWorkDir();
  const stack = new Stack({ workDir, log });
  let connection: Connection | undefined;
  try {
    await stack.start({ bundle: false });
    const config = loadConfig(stack.env('case'));

    // 1. Validation, as the API and the form do it for each request.
    const body = JSON.parse(JSON.stringify(newCase('case').submission)) as unknown;
    if (!submissionSchema(new Date()).safeParse(body).success)
      throw new Error('the sample submission does not validate');
    const validate = microsPerCall(() => void submissionSchema(new Date()).safeParse(body), 2_000);
    pieces.push({
      piece: 'validate a submission (submissionSchema(now).safeParse)',
      value: validate.wall,
      unit: 'µs',
      cpuMs: validate.cpu / 1000,
    });

    // 2. Starting cases: a new session, then the same session again (the "already there" path).
    connection = await stack.connect();
    const client = new Client({ connection, dataConverter: encryptedDataConverter(config.payloadKeys) });
    const service = caseService(client, stack, 'case');
    /** CPU of this process and the dev server together, per call of `fn` over `items`. */
    const timed = async <T>(items: readonly T[], fn: (item: T) => Promise<void>) => {
      const walls: number[] = [];
      const cpu = cpuNow() + (stack.serverCpuMs() ?? 0);
      for (const item of items) {
        const t = performance.now();
        await fn(item);
        walls.push(performance.now() - t);
      }
      return { p50: percentile(walls, 50), cpuMs: (cpuNow() + (stack.serverCpuMs() ?? 0) - cpu) / items.length };
    };
    const cases = Array.from({ length: 110 }, () => newCase('case'));
    for (const c of cases.slice(0, 10)) await service.submit(c.submission);
    const fresh = await timed(cases.slice(10), async (c) => void (await service.submit(c.submission)));
    pieces.push({
      piece: 'CaseService.submit, new session, one at a time (p50)',
      value: fresh.p50,
      unit: 'ms',
      cpuMs: fresh.cpuMs,
      note: 'CPU: this process and the dev server',
    });
    const again = await timed(cases.slice(10, 60), async (c) => void (await service.submit(c.submission)));
    pieces.push({
      piece: 'CaseService.submit, session already submitted (p50)',
      value: again.p50,
      unit: 'ms',
      cpuMs: again.cpuMs,
      note: 'CPU: this process and the dev server',
    });
    const burst = Array.from({ length: 200 }, () => newCase('case'));
    const burstStarted = performance.now();
    await pool(burst, 16, async (c) => void (await service.submit(c.submission)));
    pieces.push({
      piece: 'CaseService.submit, new sessions, 16 in flight',
      value: burst.length / ((performance.now() - burstStarted) / 1000),
      unit: '/s',
    });
    const batch = newCase('case').submission;
    batch.sessions = Array.from({ length: 10 }, (_, i) => ({
      ...batch.sessions[0]!,
      id: `${batch.sessions[0]!.id}-${i}`,
    }));
    const batchStarted = performance.now();
    await service.submit(batch);
    pieces.push({
      piece: 'CaseService.submit, one submission of 10 sessions',
      value: performance.now() - batchStarted,
      unit: 'ms',
    });

    // 3. The first email's activity: seal the link, render, send (to the sink, which greets at once).
    const mailer = new SmtpMailer({ url: stack.sink.url, from: config.mail.from });
    let attempt = 1;
    const activities = createActivities({
      config,
      mailer,
      sms: { send: () => Promise.reject(new Error('no SMS')), status: () => Promise.reject(new Error('no SMS')) },
      attempt: () => attempt,
      now: () => new Date(),
    });
    const notice = (n: number): ClientNotice => ({
      caseId: `c${String(n).padStart(20, '0')}`,
      step: `client-slotOffer-${n}`,
      kind: 'slotOffer',
      channel: 'email',
      to: { email: `edge-${n}@example.org` },
      firstName: 'Bench',
      sessionStartsAt: new Date(Date.now() + 86_400_000).toISOString(),
      slots: [new Date(Date.now() + 3 * 86_400_000).toISOString()],
    });
    let cpu = cpuNow();
    let t = performance.now();
    await activities.notifyClient(notice(0));
    pieces.push({
      piece: 'first slot-offer email of a fresh worker (seal, render, SMTP)',
      value: performance.now() - t,
      unit: 'ms',
      cpuMs: cpuNow() - cpu,
    });
    const sends: number[] = [];
    const connectionsBefore = stack.sink.counts().connections;
    cpu = cpuNow();
    for (let n = 1; n <= 100; n++) {
      attempt = n;
      t = performance.now();
      await activities.notifyClient(notice(n));
      sends.push(performance.now() - t);
    }
    pieces.push({
      piece: 'slot-offer email, one at a time (p50)',
      value: percentile(sends, 50),
      unit: 'ms',
      cpuMs: (cpuNow() - cpu) / 100,
      note: `${stack.sink.counts().connections - connectionsBefore} SMTP connections for 100 emails; CPU with the sink`,
    });
    const parallel = Array.from({ length: 200 }, (_, i) => 1_000 + i);
    cpu = cpuNow();
    t = performance.now();
    await pool(parallel, 8, async (n) => void (await activities.notifyClient(notice(n))));
    pieces.push({
      piece: 'slot-offer emails, 8 in flight',
      value: parallel.length / ((performance.now() - t) / 1000),
      unit: '/s',
      cpuMs: (cpuNow() - cpu) / parallel.length,
    });
    await mailer.close();
  } finally {
    await connection?.close();
    await stack.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }

  const width = Math.max(...pieces.map((p) => p.piece.length));
  for (const p of pieces) {
    const value = p.unit === 'µs' || p.unit === '/s' ? p.value.toFixed(0) : p.value.toFixed(1);
    const cpu = p.cpuMs === undefined ? '' : `  CPU ${p.cpuMs.toFixed(3)} ms`;
    process.stdout.write(
      `${p.piece.padEnd(width)}  ${value.padStart(8)} ${p.unit}${cpu}${p.note ? `  (${p.note})` : ''}\n`,
    );
  }
  if (values.out) {
    fs.mkdirSync(path.dirname(values.out), { recursive: true });
    fs.writeFileSync(values.out, `${JSON.stringify({ date: new Date().toISOString(), pieces }, null, 2)}\n`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:edges failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
