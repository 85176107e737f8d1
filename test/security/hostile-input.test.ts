/**
 * Hostile bodies, methods and volumes. Forms and the API refuse what they cannot use (API: 400,
 * forms: 422 with the form again, both: 413 past the size or field limits) and start nothing;
 * no name or address, whatever it holds, can add a header to an email; unknown methods get
 * 405/501; too many requests get 429; and no error page shows a stack trace.
 */
import net from 'node:net';
import fc from 'fast-check';
import { z } from 'zod';
import request from 'supertest';
import { SmtpMailer } from '../../src/mail/smtp';
import { submissionSchema } from '../../src/shared/api';
import { createApp, type AppDeps } from '../../src/web/app';
import { startWebServer } from '../../src/web/main';
import { activitiesWith, clientNotice, therapistNotice } from '../channels/fixtures';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { API_TOKEN, caseView, CASE_ID, makeDeps, signIn, testConfig, THERAPIST, validSubmission } from '../web/fakes';

const AUTH = { Authorization: `Bearer ${API_TOKEN}` };
const NO_LIMITS: AppDeps['limits'] = {
  api: { limit: 100_000, windowMs: 60_000 },
  signIn: { limit: 100_000, windowMs: 60_000 },
  clientLinks: { limit: 100_000, windowMs: 60_000 },
};

function setup(limits: AppDeps['limits'] = NO_LIMITS, env: NodeJS.ProcessEnv = {}) {
  const d = makeDeps({ config: testConfig(env) });
  d.cases.add(caseView());
  return { ...d, app: createApp({ ...d.deps, limits }) };
}

/** Characters that must never reach a one-line field: controls, format characters (bidi, zero-width), line separators. */
const forbidden = fc.constantFrom('\r\n', '\n', '\r', '\u0000', '\u0007', '\u001b[31m', '\u007f', '\u0085', '\u200b', '\u200e', '\u202e', '\u2028', '\u2029', '\ufeff', '\r\nBcc: victim@example.org', '\r\nX-Injected: yes');
/**
 * Text with a forbidden character inside it. (At the very ends, line breaks are whitespace the
 * schema trims away: nothing is left to inject; a separate test shows that.)
 */
const tainted = fc.tuple(fc.string({ unit: 'grapheme', maxLength: 30 }), forbidden, fc.string({ unit: 'grapheme', maxLength: 30 })).map(([a, f, b]) => `A${a}${f}${b}Z`);

type Json = Record<string, unknown>;
const session0 = (body: Json) => (body.sessions as Json[])[0]!;

/** Hostile API bodies: each is invalid for a reason the schema must catch. */
const hostileApiBody: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue(),
  tainted.map((v) => ({ ...validSubmission(), therapist: { id: 'T1042', name: v, email: 'alex@example.org' } })),
  tainted.map((v) => {
    const b = validSubmission();
    (session0(b).client as Json).firstName = v;
    return b;
  }),
  fc.tuple(fc.emailAddress(), forbidden).map(([e, f]) => {
    const b = validSubmission();
    (session0(b).client as Json).email = `${e}${f}${f.includes(':') ? '' : 'Bcc: victim@example.org'}`;
    return b;
  }),
  fc.integer({ min: 101, max: 5_000 }).map((n) => ({ ...validSubmission(), therapist: { id: 'T1042', name: 'x'.repeat(n), email: 'alex@example.org' } })),
  fc.integer({ min: 1_000, max: 8_000 }).map((n) => ({ ...validSubmission(), ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i])) })),
  fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue(), { minKeys: 1 }).map((junk) => {
    const b = validSubmission();
    Object.assign(session0(b), { extra: junk });
    return b;
  }),
  fc.jsonValue({ maxDepth: 6 }).map((junk) => ({ ...validSubmission(), sessions: junk })),
  fc.constantFrom('__proto__', 'constructor', 'prototype').map((k) => JSON.parse(`{"${k}": {"polluted": true}, "therapist": {"id":"T1"}}`) as unknown),
);

describe('hostile API bodies', () => {
  it('when fast-check throws unicode, control characters, huge strings, header-shaped names and emails, thousands of fields, unknown keys and nested junk at POST /api/cancellations, then it answers 400 or 413 and starts nothing', async () => {
    const { app, cases } = setup();
    await fc.assert(
      fc.asyncProperty(hostileApiBody, async (body) => {
        const res = await request(app).post('/api/cancellations').set(AUTH).set('Content-Type', 'application/json').send(JSON.stringify(body));
        expect([400, 413]).toContain(res.status);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(ts|js):\d+/);
        expect(cases.submit).not.toHaveBeenCalled();
        expect(({} as Json).polluted).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });

  it('when a body is nested 50 000 levels deep or far too large, then it is refused without a crash', async () => {
    const { app, cases } = setup();
    const deep = (n: number) => `{"sessions":${'['.repeat(n)}${']'.repeat(n)}}`;
    // Just under the 100 kB limit: read, and refused by the schema; just over: never read.
    await request(app).post('/api/cancellations').set(AUTH).set('Content-Type', 'application/json').send(deep(50_000)).expect(400);
    await request(app).post('/api/cancellations').set(AUTH).set('Content-Type', 'application/json').send(deep(60_000)).expect(413);
    await request(app).post('/api/cancellations').set(AUTH).set('Content-Type', 'application/json').send(`{"sessions":${'['.repeat(2_000)}${']'.repeat(2_000)}}`).expect(400);
    await request(app).post('/api/cancellations').set(AUTH).set('Content-Type', 'application/json').send('{"a":"' + 'x'.repeat(2_000_000) + '"}').expect(413);
    expect(cases.submit).not.toHaveBeenCalled();
  });

  it('when names hold any unicode text without control characters, then the schema either keeps them exactly or refuses them: nothing is silently changed', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }), (name) => {
        const b = validSubmission();
        (session0(b).client as Json).firstName = name;
        const parsed = submissionSchema(new Date()).safeParse(b);
        if (parsed.success) {
          expect(parsed.data.sessions[0]!.client.firstName).toBe(name.trim());
          expect(name).not.toMatch(/[\p{Cc}\p{Cf}\u2028\u2029]/u);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('hostile form bodies', () => {
  const base = () => ({
    'therapist-name': 'Alex Morgan',
    'therapist-email': 'alex@example.org',
    reason: 'illness',
    'session-0-id': 'S-1',
    'session-0-client-ref': 'C-1',
    'session-0-first-name': 'Sam',
    'session-0-contact': 'email',
    'session-0-email': 'sam@example.org',
    'session-0-rebook': 'callback',
    action: 'submit',
  });
  const hostileForm: fc.Arbitrary<Record<string, string>> = fc.oneof(
    tainted.map((v) => ({ ...base(), 'therapist-name': v })),
    tainted.map((v) => ({ ...base(), 'session-0-first-name': v })),
    fc.tuple(fc.emailAddress(), forbidden).map(([e, f]) => ({ ...base(), 'session-0-email': `${e}${f}Bcc: victim@example.org` })),
    fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 50 }), { maxKeys: 40 }).map((junk) => ({ ...junk, ...base(), 'session-0-email': 'not an email' })),
    fc.integer({ min: 1_001, max: 4_000 }).map((n) => ({ ...base(), ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`x${i}`, '1'])) })),
    fc.integer({ min: 101_000, max: 300_000 }).map((n) => ({ ...base(), 'session-0-risk-note': 'x'.repeat(n) })),
  );

  it('when fast-check posts the form with control characters in names and emails, junk fields and thousands of fields, then it answers 422 (the form, with errors) or 413, and starts nothing', async () => {
    const { app, cases } = setup();
    const staff = await signIn(app, THERAPIST);
    await fc.assert(
      fc.asyncProperty(hostileForm, async (body) => {
        const res = await staff.post('/cancellations', body);
        expect([413, 422]).toContain(res.status);
        expect(res.text).not.toMatch(/at .*\.(ts|js):\d+|PayloadTooLargeError|stack/i);
        expect(cases.submit).not.toHaveBeenCalled();
      }),
      { numRuns: 60 },
    );
  });

  it('when a form has more than 1000 fields, then it is refused with 413 before it is read', async () => {
    const { app, cases } = setup();
    const staff = await signIn(app, THERAPIST);
    const many = Object.fromEntries(Array.from({ length: 1_001 }, (_, i) => [`x${i}`, '1']));
    const res = await staff.post('/cancellations', many).expect(413);
    expect(res.text).toContain('The request is too large');
    expect(cases.submit).not.toHaveBeenCalled();
  });
});

describe('emails cannot be given extra headers', () => {
  let smtp: SmtpSink;
  beforeAll(async () => {
    smtp = await startSmtpSink();
  });
  afterAll(() => smtp.close());

  const ALLOWED_HEADERS = new Set(['from', 'to', 'subject', 'message-id', 'date', 'mime-version', 'content-type', 'content-transfer-encoding', 'auto-submitted']);
  const headerNames = (raw: Buffer) => {
    const head = raw.toString('utf8').split(/\r?\n\r?\n/)[0]!;
    return head
      .split(/\r?\n/)
      .filter((l) => !/^[ \t]/.test(l))
      .map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
  };

  it('when any name (control characters and header-shaped text included) goes into a client or therapist email, then the message has only its own headers and one recipient', async () => {
    const mailer = new SmtpMailer({ url: smtp.url, from: 'shortnotice <no-reply@shortnotice.localhost>' });
    const { activities } = activitiesWith({ mailer });
    // Addresses as the API lets them through.
    const addresses = fc.emailAddress().filter((e) => e.length <= 254 && z.email().safeParse(e).success);
    await fc.assert(
      fc.asyncProperty(fc.oneof(tainted, fc.string({ unit: 'grapheme', maxLength: 40 })), addresses, async (name, to) => {
        smtp.clear();
        await activities.notifyClient({ ...clientNotice('slotOffer'), firstName: name, to: { email: to } });
        await activities.notifyTherapist({ ...therapistNotice('followUpDuty'), therapistName: name, clientFirstName: name, to });
        expect(smtp.messages).toHaveLength(2);
        for (const m of smtp.messages) {
          expect(m.envelope.to.map((a) => a.toLowerCase())).toEqual([to.toLowerCase()]);
          for (const h of headerNames(m.raw)) expect(ALLOWED_HEADERS).toContain(h);
        }
      }),
      { numRuns: 40 },
    );
    await mailer.close();
  });

  it('when a name or address only has line breaks at its ends, then they are trimmed away and nothing of them is kept', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((v) => v.trim() === v && v.length > 0), fc.constantFrom('\r\n', '\n', '\r', ' \t'), (name, edge) => {
        const b = validSubmission();
        b.therapist = { id: 'T1042', name: `${edge}${name}${edge}`, email: `${edge}alex@example.org${edge}` };
        const parsed = submissionSchema(new Date()).safeParse(b);
        if (parsed.success) {
          expect(parsed.data.therapist.name).toBe(name);
          expect(parsed.data.therapist.email).toBe('alex@example.org');
          expect(parsed.data.therapist.name).not.toMatch(/[\r\n]/);
        }
      }),
    );
  });

  it('when an address carries a line break and a header, then the API schema refuses it before any email exists', () => {
    fc.assert(
      fc.property(fc.emailAddress(), forbidden, (e, f) => {
        const b = validSubmission();
        (session0(b).client as Json).email = `${e}${f}Bcc: victim@example.org`;
        expect(submissionSchema(new Date()).safeParse(b).success).toBe(false);
      }),
    );
  });
});

describe('methods', () => {
  it.each(['TRACE', 'PROPFIND', 'LOCK', 'MKCOL'])('when a request uses %s, then it answers 501', async (method) => {
    const { app } = setup();
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const status = await rawStatus((server.address() as net.AddressInfo).port, `${method} /cancellations/new HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(status).toBe(501);
    } finally {
      server.close();
    }
  });

  it.each([
    ['PUT', '/cancellations/new', 'GET, HEAD'],
    ['DELETE', `/cancellations/${CASE_ID}`, 'GET, HEAD'],
    ['PATCH', '/cancellations', 'GET, HEAD, POST'],
    ['OPTIONS', '/cancellations/new', 'GET, HEAD'],
    ['PUT', '/c/anything', 'GET, HEAD, POST'],
    ['DELETE', '/api/cancellations', 'POST'],
  ])('when %s is sent to %s, then it answers 405 with Allow: %s', async (method, path, allow) => {
    const { app } = setup();
    const staff = await signIn(app, THERAPIST);
    const agent = staff.agent as unknown as Record<string, (p: string) => request.Test>;
    const res = await agent[method.toLowerCase()]!(path).set(AUTH);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe(allow);
  });

  it('when a method the HTTP parser does not know arrives at the real server, then it answers 501, not a crash', async () => {
    const d = makeDeps();
    const web = await startWebServer(d.deps, 0, '127.0.0.1');
    try {
      expect(await rawStatus(web.port, 'FOO / HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(501);
      expect(await rawStatus(web.port, 'GET / HTTP/1.1\r\nHost: x\r\nX: \u0000\r\n\r\n')).toBe(400);
      const ok = await fetch(`${web.url}/healthz`);
      expect(ok.status).toBe(200);
    } finally {
      await web.stop();
    }
  });
});

describe('rate limits', () => {
  const tiny = { limit: 3, windowMs: 60_000 };

  it('when the sign-in page is hit too often from one address, then it answers 429 with a calm page', async () => {
    const { app } = setup({ ...NO_LIMITS, signIn: tiny });
    for (let i = 0; i < 3; i++) await request(app).get('/auth/sign-in').expect(200);
    const res = await request(app).get('/auth/sign-in').expect(429);
    expect(res.text).toContain('too many attempts');
    expect(res.headers['retry-after']).toBeDefined();
    // Another route is not counted against sign-in.
    await request(app).get('/healthz').expect(200);
  });

  it('when the API is called too often, then it answers 429 in JSON, counting before the token is checked', async () => {
    const { app, cases } = setup({ ...NO_LIMITS, api: tiny });
    for (let i = 0; i < 3; i++) await request(app).get(`/api/cancellations/${CASE_ID}`).set('Authorization', `Bearer ${'x'.repeat(40)}`).expect(401);
    const res = await request(app).get(`/api/cancellations/${CASE_ID}`).set(AUTH).expect(429);
    expect(res.body.errors[0].message).toMatch(/Too many requests/);
    expect(cases.view).not.toHaveBeenCalled();
  });

  it('when client links are tried too often, then the client gets a calm 429 with crisis signposting', async () => {
    const { app } = setup({ ...NO_LIMITS, clientLinks: tiny });
    for (let i = 0; i < 3; i++) await request(app).get(`/c/guess-${i}`).expect(404);
    const res = await request(app).get('/c/guess-4').expect(429);
    expect(res.text).toContain('Samaritans');
    expect(res.text).toContain('0333 222 0710');
  });

  it('when X-Forwarded-For is sent with TRUST_PROXY_HOPS=0, then it cannot dodge the limit; behind one trusted proxy, each client is counted apart', async () => {
    const direct = setup({ ...NO_LIMITS, signIn: tiny });
    for (let i = 0; i < 3; i++) await request(direct.app).get('/auth/sign-in').set('X-Forwarded-For', `203.0.113.${i}`).expect(200);
    await request(direct.app).get('/auth/sign-in').set('X-Forwarded-For', '203.0.113.99').expect(429);

    const proxied = setup({ ...NO_LIMITS, signIn: tiny }, { TRUST_PROXY_HOPS: '1' });
    for (let i = 0; i < 3; i++) await request(proxied.app).get('/auth/sign-in').set('X-Forwarded-For', '203.0.113.7').expect(200);
    await request(proxied.app).get('/auth/sign-in').set('X-Forwarded-For', '203.0.113.7').expect(429);
    await request(proxied.app).get('/auth/sign-in').set('X-Forwarded-For', '198.51.100.8').expect(200);
    // A client cannot pick its address by adding its own X-Forwarded-For in front of the proxy's.
    await request(proxied.app).get('/auth/sign-in').set('X-Forwarded-For', '192.0.2.1, 203.0.113.7').expect(429);
  });
});

describe('error pages', () => {
  it.each([
    ['a malformed percent-encoding', '/cancellations/%E0%A4%A', 400],
    ['a malformed client link encoding', '/c/%', 400],
  ])('when a request has %s, then the answer is a calm page with no stack trace', async (_name, path, status) => {
    const { app } = setup();
    const staff = await signIn(app, THERAPIST);
    const res = await staff.get(path);
    expect(res.status).toBe(status);
    expect(res.text).toContain('Sorry, there is a problem');
    expect(res.text).not.toMatch(/URIError|at .*\.(ts|js):\d+|node_modules/);
  });

  it('when a form body is not valid for its content type, then the error page is generic', async () => {
    const { app } = setup();
    const staff = await signIn(app, THERAPIST);
    const res = await staff.agent.post('/cancellations').set('Content-Type', 'application/x-www-form-urlencoded; charset=koi8-r').send(`_csrf=${staff.csrf}`);
    expect([403, 415]).toContain(res.status);
    expect(res.text).not.toMatch(/at .*\.(ts|js):\d+|node_modules|UnsupportedMediaTypeError/);
  });
});

function rawStatus(port: number, text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let data = '';
    socket.on('data', (c) => (data += c.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
    socket.setTimeout(5_000, () => socket.destroy());
  });
}

