/**
 * A real SMTP server on 127.0.0.1 (smtp-server, parsed with mailparser) for tests: it keeps
 * every message it accepts, and can be told to answer the next MAIL/RCPT/DATA with a given reply
 * (451, 550...), to drop the connection there, or to refuse the next login with 535.
 * Connections are accepted by our own net.Server and handed to smtp-server, so a "drop" can
 * destroy the socket the way a crashed server or a broken network would.
 */
import net from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

export interface ReceivedMail {
  /** The envelope: what the client said in MAIL FROM and RCPT TO. */
  envelope: { from: string; to: string[] };
  /** Envelope recipients (the addresses the message was actually delivered to). */
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  parsed: ParsedMail;
  raw: Buffer;
  /** The DSN parameters (RFC 3461) the client gave, when the sink advertised DSN. */
  dsn?: { ret: string | null; envid: string | null; notify: Array<string[] | undefined> };
  /** When the sink accepted it. */
  receivedAt: Date;
}

export type SmtpStage = 'mail' | 'rcpt' | 'data';

export type SmtpFailure =
  /** Answer the stage with this reply code (and text). */
  | { at: SmtpStage; reply: number; text?: string }
  /** Destroy the connection when the stage is reached, without a reply. */
  | { at: SmtpStage; drop: true }
  /** Refuse the next login with 535, whatever the credentials. */
  | { at: 'auth' };

export interface SmtpSinkOptions {
  /** Require this login (AUTH PLAIN/LOGIN); wrong credentials get 535. */
  auth?: { user: string; pass: string };
  /** Advertise DSN (RFC 3461), as a relay that sends delivery status notifications does. */
  dsn?: boolean;
}

export interface SmtpSink {
  /** smtp://[user:pass@]127.0.0.1:port */
  url: string;
  port: number;
  messages: ReceivedMail[];
  /** Resolves with the first message (already received or still to come) that matches. */
  waitFor(predicate: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** Queues a failure; each applies once, at the first matching stage. */
  failNext(failure: SmtpFailure): void;
  /** Answers every MAIL FROM with `reply` (451: "try again later") until called with undefined. */
  refuseAll(reply: number | undefined): void;
  /** How many connections have been opened so far. */
  connections(): number;
  /**
   * Connection errors smtp-server reported (a client that reset its connection in the middle of a
   * transaction, as a SIGKILLed worker does). They are kept here, not thrown: a relay outlives its
   * clients, and smtp-server re-emits them on the server, where no listener would crash the test.
   */
  connectionErrors(): Error[];
  clear(): void;
  close(): Promise<void>;
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const failures: SmtpFailure[] = [];
  const waiters: Array<{ predicate: (m: ReceivedMail) => boolean; resolve: (m: ReceivedMail) => void }> = [];
  const sockets = new Set<net.Socket>();
  let opened = 0;
  const connectionErrors: Error[] = [];
  let refusing: number | undefined;

  const take = (at: SmtpFailure['at']): SmtpFailure | undefined => {
    const i = failures.findIndex((f) => f.at === at);
    return i === -1 ? undefined : failures.splice(i, 1)[0];
  };
  const dropAll = () => sockets.forEach((s) => s.destroy());
  const replyError = (reply: number, text?: string) => Object.assign(new Error(text ?? `Sink says ${reply}`), { responseCode: reply });

  /** Applies a queued failure for the stage; returns true if it answered (or dropped). */
  const fail = (at: SmtpStage, callback: (err?: Error | null) => void): boolean => {
    const f = take(at);
    if (!f) return false;
    if ('drop' in f) dropAll();
    else if ('reply' in f) callback(replyError(f.reply, f.text));
    return true;
  };

  const smtp = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS'],
    hideSTARTTLS: true,
    hideDSN: !options.dsn,
    disableReverseLookup: true,
    allowInsecureAuth: true,
    authOptional: !options.auth,
    onAuth(auth, _session, callback) {
      const refused = take('auth') !== undefined;
      const ok = !options.auth || (auth.username === options.auth.user && auth.password === options.auth.pass);
      if (refused || !ok) return callback(replyError(535, 'Authentication credentials invalid'));
      callback(null, { user: auth.username });
    },
    onMailFrom(_address: SMTPServerAddress, _session, callback) {
      if (refusing !== undefined) return callback(replyError(refusing, 'Sink refuses all mail for now'));
      if (!fail('mail', callback)) callback();
    },
    onRcptTo(_address: SMTPServerAddress, _session, callback) {
      if (!fail('rcpt', callback)) callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (fail('data', callback)) return;
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then((parsed) => {
            const envelope = {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
            };
            const mail: ReceivedMail = {
              envelope,
              to: envelope.to,
              from: parsed.from?.text ?? '',
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              messageId: parsed.messageId ?? '',
              parsed,
              raw,
              ...(session.envelope.dsn
                ? { dsn: { ...session.envelope.dsn, notify: session.envelope.rcptTo.map((r) => r.dsn?.notify) } }
                : {}),
              receivedAt: new Date(),
            };
            messages.push(mail);
            for (const w of [...waiters]) {
              if (w.predicate(mail)) {
                waiters.splice(waiters.indexOf(w), 1);
                w.resolve(mail);
              }
            }
            callback();
          })
          .catch((err: Error) => callback(err));
      });
    },
  });

  smtp.on('error', (err: Error) => connectionErrors.push(err));

  const tcp = net.createServer((socket) => {
    opened += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    smtp.connect(socket);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (tcp.address() as net.AddressInfo).port;
  const credentials = options.auth ? `${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.pass)}@` : '';

  return {
    url: `smtp://${credentials}127.0.0.1:${port}`,
    port,
    messages,
    waitFor(predicate, timeoutMs = 10_000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (m: ReceivedMail) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`No matching message within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    failNext(failure) {
      failures.push(failure);
    },
    refuseAll(reply) {
      refusing = reply;
    },
    connections: () => opened,
    connectionErrors: () => [...connectionErrors],
    clear() {
      messages.length = 0;
      failures.length = 0;
    },
    async close() {
      dropAll();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}
