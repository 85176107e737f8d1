/**
 * The native cluster's mail catcher (compose runs Mailpit in its place): an SMTP server on
 * 127.0.0.1 that accepts every message and writes it, unchanged, to a folder as an .eml file.
 * Usage: tsx src/dev/mail-sink.ts PORT FOLDER. A development tool: smtp-server is a dev dependency.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';

const [portArg, dir] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || port <= 0 || !dir) {
  process.stderr.write('Usage: mail-sink PORT FOLDER\n');
  process.exit(64);
}
fs.mkdirSync(dir, { recursive: true });
let count = 0;

const server = new SMTPServer({
  disabledCommands: ['STARTTLS', 'AUTH'],
  disableReverseLookup: true,
  logger: false,
  onData(stream, _session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      count += 1;
      const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${count}.eml`);
      fs.writeFile(file, Buffer.concat(chunks), (err) => callback(err ?? undefined));
    });
  },
});
// A client that breaks its connection inside a transaction (a worker SIGKILLed while sending)
// reaches smtp-server as an 'error' on the server; unheard, it would end the catcher. One line,
// the error's code only: nothing of the message is logged. An error before it listens (the port
// is taken) comes the same way, and ends it.
server.on('error', (err: NodeJS.ErrnoException) => {
  if (!server.server.listening) {
    process.stderr.write(`mail catcher: cannot listen on 127.0.0.1:${port} (${err.code ?? err.message})\n`);
    process.exit(1);
  }
  process.stderr.write(`mail catcher: a connection failed (${err.code ?? err.message})\n`);
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`mail catcher on 127.0.0.1:${port}, writing to ${dir}\n`));
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
