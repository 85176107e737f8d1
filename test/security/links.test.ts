/**
 * Client links under attack: tampered, truncated, expired, reused and wrong-key links get a calm
 * page (support number, crisis lines), never an exception, and change nothing; a property test
 * mutates valid tokens every way it can and never gets a 500 or a page for someone's case.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import request from 'supertest';
import { LinkSealer } from '../../src/links';
import type { CaseView } from '../../src/shared/case';
import { createApp, type AppDeps } from '../../src/web/app';
import { CsrfTokens, linkBinding } from '../../src/web/security/csrf';
import { caseView, CASE_ID, DAY, makeDeps } from '../web/fakes';

function setup(view: Partial<CaseView> = {}, limits?: AppDeps['limits']) {
  const d = makeDeps();
  d.cases.add(caseView(view));
  const token = d.links.seal(CASE_ID, 'choose', 14 * DAY);
  const csrf = new CsrfTokens(d.config.auth.sessionKeys);
  return { ...d, app: createApp({ ...d.deps, limits }), token, csrfFor: (t: string) => csrf.issue(linkBinding(t)) };
}

function expectCalm(res: request.Response) {
  expect(res.text).toContain('0333 222 0710');
  expect(res.text).toContain('Samaritans');
  expect(res.text).not.toMatch(/Error:|at .*\.(ts|js):\d+|tampered|malformed|unknown-key|wrong-purpose/);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
}

describe('a client link that does not work', () => {
  const otherKey = (id: string) => [{ id, key: randomBytes(32) }];
  const variants: [string, (token: string, links: LinkSealer, csrfFor: (t: string) => string) => string, number, string][] = [
    ['tampered (a middle character changed)', (t) => t.slice(0, 20) + (t[20] === 'A' ? 'B' : 'A') + t.slice(21), 404, 'This link does not work'],
    ['truncated (a mail client cut it)', (t) => t.slice(0, t.length - 7), 404, 'This link does not work'],
    ['truncated to its key id', (t) => t.slice(0, t.indexOf('.') + 1), 404, 'This link does not work'],
    ['expired', () => new LinkSealer(makeDeps().config.linkKeys, () => Date.now() - 30 * DAY).seal(CASE_ID, 'choose', DAY), 410, 'This link has expired'],
    ['sealed under the same key id with another key', () => new LinkSealer(otherKey('dev')).seal(CASE_ID, 'choose', DAY), 404, 'This link does not work'],
    ['sealed with an unknown key id', () => new LinkSealer(otherKey('k9')).seal(CASE_ID, 'choose', DAY), 404, 'This link does not work'],
    ['re-spelt in base64 (spare bits changed)', (t) => t.slice(0, -1) + String.fromCharCode(t.charCodeAt(t.length - 1) ^ 1), 404, 'This link does not work'],
  ];

  it.each(variants)('(%s), then GET and POST get a calm page with no trace, and nothing is changed', async (_name, make, status, heading) => {
    const { app, token, links, cases, csrfFor } = setup();
    const bad = make(token, links, csrfFor);
    expect(bad).not.toBe(token);
    const page = await request(app).get(`/c/${bad}`);
    // Even with a token that fits the bad link, nothing can be chosen through it.
    const post = await request(app).post(`/c/${bad}`).type('form').send({ _csrf: csrfFor(bad), choice: 'call' });
    for (const res of [page, post]) {
      expect(res.status).toBe(status);
      expect(res.text).toContain(heading);
      expect(res.text).not.toContain('Hello Sam');
      expectCalm(res);
    }
    expect(cases.updates).toHaveLength(0);
    expect(cases.view).not.toHaveBeenCalled();
  });

  it('when the same link is used again for a different choice after a booking, then the page calmly says it is already booked and books nothing', async () => {
    const { app, token, cases, csrfFor } = setup();
    cases.onUpdate = (call, view) => (call.update === 'chooseSlot' ? { ...view, stage: 'awaiting-documentation', bookedSlot: (call.args[0] as { slot: string }).slot } : undefined);
    const [first, second] = cases.views.get(CASE_ID)!.offeredSlots;

    await request(app).post(`/c/${token}`).type('form').send({ _csrf: csrfFor(token), choice: first }).expect(200);
    const again = await request(app).post(`/c/${token}`).type('form').send({ _csrf: csrfFor(token), choice: second });
    const call = await request(app).post(`/c/${token}`).type('form').send({ _csrf: csrfFor(token), choice: 'call' });

    for (const res of [again, call]) {
      expect(res.status).toBe(200);
      expect(res.text).toContain('Your new appointment is already booked for');
      expect(res.text).not.toContain('name="choice"');
      expectCalm(res);
    }
    expect(cases.updates.map((u) => u.update)).toEqual(['chooseSlot']);
  });

  it('when two choices race and the workflow refuses the second, then that page too says calmly that it is already booked', async () => {
    const { app, token, cases, csrfFor } = setup();
    const [first, second] = cases.views.get(CASE_ID)!.offeredSlots;
    // The other tab's choice lands between this page's read and its update.
    cases.refuseWith = 'A new session has already been booked';
    const booked = { ...cases.views.get(CASE_ID)!, stage: 'awaiting-documentation' as const, bookedSlot: first };
    const view = cases.view.getMockImplementation()!;
    cases.view.mockImplementationOnce(view).mockImplementationOnce(async () => booked);

    const res = await request(app).post(`/c/${token}`).type('form').send({ _csrf: csrfFor(token), choice: second });

    expect(res.status).toBe(409);
    expect(res.text).toContain('Your new appointment is already booked for');
    expect(res.text).not.toContain('A new session has already been booked');
    expectCalm(res);
    expect(cases.updates).toHaveLength(0);
  });

  it('when any valid token is mutated (changed, cut, extended, re-cased, padded with junk), then the answer is never a 500 and never a case page', async () => {
    // The client-link rate limit would stop this test long before it is done.
    const { app, token, cases, csrfFor } = setup({}, { clientLinks: { limit: 10_000, windowMs: 60_000 } });
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), ch: fc.oneof(fc.constantFrom(...'AZaz09-_.=%/+~'.split('')), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), s: fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('case' as const) }),
      fc.record({ kind: fc.constant('append' as const), s: fc.string({ minLength: 1, maxLength: 400 }) }),
    );
    const apply = (t: string, m: fc.Arbitrary<unknown> extends never ? never : { kind: string; at?: number; ch?: string; n?: number; s?: string }): string => {
      const i = (m.at ?? 0) % (t.length + 1);
      switch (m.kind) {
        case 'replace':
          return t.slice(0, i) + m.ch + t.slice(i + 1);
        case 'delete':
          return t.slice(0, i) + t.slice(i + (m.n ?? 1));
        case 'insert':
          return t.slice(0, i) + m.s + t.slice(i);
        case 'truncate':
          return t.slice(0, i);
        case 'case':
          return t.replace(/[a-z]/, (c) => c.toUpperCase());
        default:
          return t + m.s;
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (ms) => {
        const bad = ms.reduce(apply, token);
        if (bad === token) return; // a no-op mutation is just the link itself
        // As a browser would send it: UTF-8, percent-encoded (a lone surrogate becomes U+FFFD).
        const path = `/c/${[...Buffer.from(bad, 'utf8')].map((b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`)).join('')}`;
        const page = await request(app).get(path);
        const post = await request(app).post(path).type('form').send({ _csrf: csrfFor(token), choice: 'call' });
        for (const res of [page, post]) {
          expect([403, 404, 410]).toContain(res.status);
          expect(res.text).not.toContain('Hello Sam');
          expectCalm(res);
        }
        expect(cases.updates).toHaveLength(0);
      }),
      { numRuns: 150 },
    );
  });
});

describe('the link format', () => {
  it('when a token is far too long or oddly formed, then it is refused by its shape before any decryption', () => {
    const sealer = new LinkSealer(makeDeps().config.linkKeys);
    const valid = sealer.seal(CASE_ID, 'choose', DAY);
    // "malformed" is only ever answered before decryption; "tampered" only after it.
    for (const bad of ['x'.repeat(1_000_000), `${valid}${'A'.repeat(300)}`, 'dev.!!!!', 'dev.', '.abc', valid.slice(0, 30)]) {
      expect(sealer.open(bad, 'choose')).toEqual({ ok: false, reason: 'malformed' });
    }
    const started = process.hrtime.bigint();
    for (let i = 0; i < 1000; i++) sealer.open('x'.repeat(100_000), 'choose');
    // A thousand 100 kB tokens in well under a second: nothing proportional to the input runs.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(500);
    // A well-formed token with a wrong tag: decrypted once, and GCM's tag check (constant time, in OpenSSL) decides.
    expect(sealer.open(valid.slice(0, -6) + (valid.endsWith('AAAAAA') ? 'BBBBBA' : 'AAAAAA'), 'choose')).toEqual({ ok: false, reason: 'tampered' });
  });

  it('when a link is made, then it carries no case id, workflow id or personal data, and each sealing differs', () => {
    const sealer = new LinkSealer(makeDeps().config.linkKeys);
    const a = sealer.seal(CASE_ID, 'choose', DAY);
    const b = sealer.seal(CASE_ID, 'choose', DAY);
    expect(a).not.toBe(b);
    for (const t of [a, b]) {
      expect(t).toMatch(/^[A-Za-z0-9]+\.[A-Za-z0-9_-]+$/);
      expect(t).not.toContain(CASE_ID);
      expect(Buffer.from(t.split('.')[1]!, 'base64url').toString('latin1')).not.toContain(CASE_ID);
    }
  });

  it('when a link sealed for another purpose is opened to choose, then it is refused', () => {
    const sealer = new LinkSealer(makeDeps().config.linkKeys);
    const forged = sealer.seal(CASE_ID, 'other' as 'choose', DAY);
    expect(sealer.open(forged, 'choose')).toEqual({ ok: false, reason: 'wrong-purpose' });
  });
});
