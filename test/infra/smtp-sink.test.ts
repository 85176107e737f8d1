/**
 * The SMTP servers the project runs for itself (the tests' sink, the native cluster's mail
 * catcher, the benchmark's measuring sink) must outlive their clients and speak SMTP as a relay
 * does. In the fault-injection run (F1) a worker is
 * SIGKILLed while its pooled connection is inside a transaction; the kernel answers with a reset,
 * smtp-server re-emits ECONNRESET on the server, and without a listener that crashed the test file
 * after every test in it had passed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { freePort } from '../../src/dev/binaries';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { eventually } from '../helpers/eventually';
import { ContactLog } from '../../bench/contacts';
import { startMeasuringSink } from '../../bench/sink';

let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
});

afterAll(async () => {
  await sink.close();
});

/** Writes one SMTP command and resolves with the reply line(s) that follow it. */
function exchange(socket: net.Socket, command: string | undefined): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8')));
    if (command !== undefined) socket.write(`${command}\r\n`);
  });
}

/** Opens a transaction (EHLO, MAIL FROM) and resets the connection, as SIGKILL does with data unread. */
async function resetInsideTransaction(port: number): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  expect(await exchange(socket, undefined)).toMatch(/^220/);
  expect(await exchange(socket, 'EHLO worker')).toMatch(/^250/);
  expect(await exchange(socket, 'MAIL FROM:<noreply@example.test>')).toMatch(/^250/);
  socket.resetAndDestroy();
}

/** Starts the native cluster's mail catcher as `npm run cluster` does; stderr is collected. */
function spawnCatcher(port: number, dir: string): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, '..', '..', 'src', 'dev', 'mail-sink.ts'), String(port), dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  return { child, stderr: () => stderr };
}

async function send(port: number, subject: string): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({ from: 'noreply@example.test', to: 'client@example.test', subject, text: 'still here' });
  } finally {
    transport.close();
  }
}

test('F1: a client that resets its connection inside a transaction is recorded, and the sink goes on accepting mail', async () => {
  await resetInsideTransaction(sink.port);

  const codes = () => sink.connectionErrors().map((e) => (e as NodeJS.ErrnoException).code);
  expect(await eventually(codes, ['ECONNRESET'], 5_000)).toEqual(['ECONNRESET']);

  await send(sink.port, 'after the reset');
  expect((await sink.waitFor((m) => m.subject === 'after the reset')).text.trim()).toBe('still here');
});

test("a client that resets its connection inside a transaction does not end the native cluster's mail catcher (src/dev/mail-sink.ts)", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shortnotice-mail-'));
  const port = await freePort();
  const { child, stderr } = spawnCatcher(port, dir);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (c: Buffer) => c.toString('utf8').includes('mail catcher on') && resolve());
      child.once('exit', (code) => reject(new Error(`mail catcher exited (${code}) before listening: ${stderr()}`)));
    });
    await resetInsideTransaction(port);
    await send(port, 'after the reset');
    expect(await eventually(() => fs.readdirSync(dir).length, 1, 5_000)).toBe(1);
    const [file] = fs.readdirSync(dir);
    expect(fs.readFileSync(path.join(dir, file ?? 'missing'), 'utf8')).toContain('Subject: after the reset');
    expect(stderr()).toContain('mail catcher: a connection failed (ECONNRESET)');
    expect(exited).toBeUndefined();
  } finally {
    child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the mail catcher exits with an error, and says why, when its port is taken', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shortnotice-mail-'));
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
  const port = (taken.address() as net.AddressInfo).port;
  try {
    const { child, stderr } = spawnCatcher(port, dir);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr()).toContain(`mail catcher: cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
  } finally {
    await new Promise<void>((resolve) => taken.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

describe("the benchmark's measuring sink (bench/sink.ts)", () => {
  /** Collects replies until `count` reply lines (final lines: "NNN " not "NNN-") have come. */
  function replies(socket: net.Socket, count: number): Promise<string[]> {
    return new Promise((resolve) => {
      let text = '';
      const onData = (chunk: Buffer) => {
        text += chunk.toString('latin1');
        const finals = text.split('\r\n').filter((l) => /^\d{3} /.test(l));
        if (finals.length >= count) {
          socket.off('data', onData);
          resolve(finals);
        }
      };
      socket.on('data', onData);
    });
  }

  test('advertises PIPELINING, answers a pipelined MAIL, RCPT and DATA in order, and a body line ending in "." split across chunks does not end the message early', async () => {
    const log = new ContactLog();
    const measuring = await startMeasuringSink(log);
    const socket = net.connect(measuring.port, '127.0.0.1');
    try {
      expect(await replies(socket, 1)).toEqual([expect.stringMatching(/^220 /)]);
      const ehlo = exchange(socket, 'EHLO worker');
      expect(await ehlo).toMatch(/^250-bench\r\n250 PIPELINING\r\n$/);
      const envelope = replies(socket, 3);
      socket.write('MAIL FROM:<noreply@example.test>\r\nRCPT TO:<Client@Example.test>\r\nDATA\r\n');
      expect((await envelope).map((l) => l.slice(0, 3))).toEqual(['250', '250', '354']);
      // The sink keeps an 8-character tail between chunks: this one leaves ".\r\nxxxxx" there,
      // which once read as an empty body's lone ".".
      const accepted = replies(socket, 1);
      socket.write('Subject: t\r\n\r\nthe end.\r\nxxxxx');
      await new Promise((r) => setTimeout(r, 50));
      socket.write('\r\n.\r\n');
      expect(await accepted).toEqual([expect.stringMatching(/^250 /)]);
      expect(await exchange(socket, 'NOOP')).toMatch(/^250 /);
      expect(measuring.counts().messages).toBe(1);
      expect(log.times('client@example.test')).toHaveLength(1);
    } finally {
      socket.destroy();
      await measuring.close();
    }
  });
});
