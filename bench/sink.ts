/**
 * A measuring SMTP sink for the benchmark: it greets at once, accepts every message, and keeps
 * only when each recipient's messages arrived.
 *
 * Written by hand on purpose: smtp-server (used by the tests) waits a fixed 100 ms before its
 * greeting to catch early talkers, with no option to turn it off, so every new connection would
 * add 100 ms to what we measure. This speaks just enough SMTP for nodemailer (greeting, EHLO/HELO,
 * MAIL, RCPT, DATA, RSET, NOOP, QUIT, and PIPELINING as a relay advertises it), parses nothing in
 * the body, and costs next to no CPU.
 */
import net from 'node:net';
import type { ContactLog } from './contacts';

export interface MeasuringSink {
  port: number;
  url: string;
  /** Messages accepted and connections opened so far. */
  counts(): { messages: number; connections: number };
  close(): Promise<void>;
}

const END_OF_DATA = '\r\n.\r\n';

/** Records each message's arrival (the final "." of DATA read) per envelope recipient in `log`. */
export async function startMeasuringSink(log: ContactLog): Promise<MeasuringSink> {
  const sockets = new Set<net.Socket>();
  let messages = 0;
  let connections = 0;

  const deliver = (recipients: string[], at: number) => {
    messages += 1;
    for (const to of recipients) log.record(to, at);
  };

  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = '';
    let inData = false;
    /** Nothing of the body read yet: only there can "." alone end it (an empty body). */
    let atBodyStart = false;
    let rcpt: string[] = [];
    const reply = (line: string) => socket.write(`${line}\r\n`);
    reply('220 bench ESMTP');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buffer.indexOf(END_OF_DATA);
          // "\r\n.\r\n" may also be the very first line of an empty body.
          const emptyBody = atBodyStart && buffer.startsWith('.\r\n');
          if (buffer.length >= 3) atBodyStart = false;
          if (end === -1 && !emptyBody) {
            // Keep only a tail long enough to find the terminator split across chunks.
            if (buffer.length > 8) buffer = buffer.slice(-8);
            return;
          }
          buffer = emptyBody ? buffer.slice(3) : buffer.slice(end + END_OF_DATA.length);
          inData = false;
          deliver(rcpt, Date.now());
          rcpt = [];
          reply('250 2.0.0 accepted');
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol === -1) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        // PIPELINING (RFC 2920), as production relays commonly advertise it (Postfix does by
        // default, as does smtp-server, the tests' sink): MAIL, RCPT and DATA may then come in one
        // batch, answered in order.
        if (verb === 'EHLO') reply('250-bench\r\n250 PIPELINING');
        else if (verb === 'HELO') reply('250 bench');
        else if (verb === 'MAIL') {
          rcpt = [];
          reply('250 2.1.0 ok');
        } else if (verb === 'RCPT') {
          const m = /<([^>]*)>/.exec(line);
          rcpt.push((m?.[1] ?? '').toLowerCase());
          reply('250 2.1.5 ok');
        } else if (verb === 'DATA') {
          inData = true;
          atBodyStart = true;
          reply('354 go ahead');
        } else if (verb === 'RSET' || verb === 'NOOP') {
          if (verb === 'RSET') rcpt = [];
          reply('250 2.0.0 ok');
        } else if (verb === 'QUIT') {
          reply('221 2.0.0 bye');
          socket.end();
          return;
        } else reply('502 5.5.1 not implemented');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    counts: () => ({ messages, connections }),
    async close() {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
