/**
 * The SMTP servers the project runs for itself (the tests' sink, the native cluster's mail
 * catcher) must outlive their clients. In the fault-injection run (F1) a worker is
 * SIGKILLed while its pooled connection is inside a transaction; the kernel answers with a reset,
 * smtp-server re-emits ECONNRESET on the server, and without a listener that crashed the test file
 * after every test in it had passed.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { eventually } from '../helpers/eventually';

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
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, '..', '..', 'src', 'dev', 'mail-sink.ts'), String(port), dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => c.toString('utf8').includes('mail catcher on') && resolve());
      child.once('exit', (code) => reject(new Error(`mail catcher exited (${code}) before listening: ${stderr}`)));
    });
    await resetInsideTransaction(port);
    await send(port, 'after the reset');
    expect(await eventually(() => fs.readdirSync(dir).length, 1, 5_000)).toBe(1);
    const [file] = fs.readdirSync(dir);
    expect(fs.readFileSync(path.join(dir, file ?? 'missing'), 'utf8')).toContain('Subject: after the reset');
    expect(stderr).toContain('mail catcher: a connection failed (ECONNRESET)');
    expect(exited).toBeUndefined();
  } finally {
    child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
