/**
 * The tests' SMTP sink must outlive its clients. In the fault-injection run (F1) a worker is
 * SIGKILLed while its pooled connection is inside a transaction; the kernel answers with a reset,
 * smtp-server re-emits ECONNRESET on the server, and without a listener that crashed the test file
 * after every test in it had passed.
 */
import net from 'node:net';
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

test('F1: a client that resets its connection inside a transaction is recorded, and the sink goes on accepting mail', async () => {
  const socket = net.connect(sink.port, '127.0.0.1');
  expect(await exchange(socket, undefined)).toMatch(/^220/);
  expect(await exchange(socket, 'EHLO worker')).toMatch(/^250/);
  expect(await exchange(socket, 'MAIL FROM:<noreply@example.test>')).toMatch(/^250/);
  // What SIGKILL does to an open TCP connection with data unread: an RST, not a FIN.
  socket.resetAndDestroy();

  const codes = () => sink.connectionErrors().map((e) => (e as NodeJS.ErrnoException).code);
  expect(await eventually(codes, ['ECONNRESET'], 5_000)).toEqual(['ECONNRESET']);

  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({ from: 'noreply@example.test', to: 'client@example.test', subject: 'after the reset', text: 'still here' });
  } finally {
    transport.close();
  }
  expect((await sink.waitFor((m) => m.subject === 'after the reset')).text.trim()).toBe('still here');
});
