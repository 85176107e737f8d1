/**
 * Staff sign-in and who may see what: every staff route refuses the signed-out, a therapist sees
 * their own cases only and neither closes nor acknowledges (the escalation team's rules are in
 * roles.test.ts), sessions expire and are new at every sign-in, the API wants a token, and the
 * development sign-in never runs in production.
 */
import request from 'supertest';
import { loadConfig } from '../../src/config';
import { createApp } from '../../src/web/app';
import { bearerMatcher } from '../../src/web/security/auth';
import { caseView, CASE_ID, csrfFrom, LEAD, makeDeps, OTHER_CASE_ID, OTHER_THERAPIST, signIn, testConfig, THERAPIST, validSubmission, API_TOKEN } from '../web/fakes';

const MINUTE = 60_000;

function setup(options: { env?: NodeJS.ProcessEnv; clock?: { now: number } } = {}) {
  const d = makeDeps({ config: testConfig(options.env) });
  d.cases.add(caseView());
  d.cases.add(caseView({ caseId: OTHER_CASE_ID, therapistId: OTHER_THERAPIST.ref, therapistName: OTHER_THERAPIST.name, clientFirstName: 'Priya' }));
  const clock = options.clock;
  const app = createApp({ ...d.deps, now: clock ? () => new Date(clock.now) : undefined });
  return { ...d, app };
}

describe('when nobody is signed in', () => {
  it.each(['/cancellations/new', `/cancellations/${CASE_ID}`, `/cancellations/${CASE_ID}?done=risk`, '/'])('then GET %s leads to the sign-in page and shows no case data', async (path) => {
    const { app } = setup();
    let res = await request(app).get(path);
    if (path === '/') {
      // Everyone's home page is their list of cases (issue 15).
      expect(res.headers.location).toBe('/cancellations');
      res = await request(app).get('/cancellations');
    }
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/auth/sign-in');
    expect(res.text).not.toMatch(/Sam|Alex Morgan|T1042/);
  });

  it.each([
    ['/cancellations', { action: 'submit' }],
    [`/cancellations/${CASE_ID}/actions/risk`, {}],
    [`/cancellations/${CASE_ID}/actions/close`, { reason: 'other' }],
    ['/auth/sign-out', {}],
  ])('then POST %s answers 401 and changes nothing', async (path, body) => {
    const { app, cases } = setup();
    const res = await request(app).post(path).type('form').send(body).expect(401);
    expect(res.text).toContain('Sign in to continue');
    expect(cases.submit).not.toHaveBeenCalled();
    expect(cases.updates).toHaveLength(0);
  });

  it('then after signing in they are taken back to the page they asked for', async () => {
    const { app } = setup();
    const agent = request.agent(app);
    await agent.get(`/cancellations/${CASE_ID}`).expect(303);
    const form = await agent.get('/auth/sign-in').expect(200);
    const res = await agent
      .post('/auth/sign-in')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), role: 'therapist', ref: 'T1042', name: 'Alex Morgan', email: '' })
      .expect(303);
    expect(res.headers.location).toBe(`/cancellations/${CASE_ID}`);
  });

  it('then a return address off this site is never followed', async () => {
    const { safeReturnPath } = await import('../../src/web/security/auth');
    for (const bad of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', '/auth/sign-in', 'javascript:alert(1)', '/x\r\nSet-Cookie: a=b']) {
      expect(safeReturnPath(bad)).toBeUndefined();
    }
    expect(safeReturnPath('/cancellations/c0123456789abcdefghij?done=risk')).toBe('/cancellations/c0123456789abcdefghij?done=risk');
  });
});

describe('when a therapist is signed in', () => {
  it("then another therapist's case answers exactly like a case that does not exist, and its actions do nothing", async () => {
    const { app, cases } = setup();
    const staff = await signIn(app, THERAPIST);

    const other = await staff.get(`/cancellations/${OTHER_CASE_ID}`).expect(404);
    const missing = await staff.get('/cancellations/c99999999999999999999').expect(404);
    const act = await staff.post(`/cancellations/${OTHER_CASE_ID}/actions/risk`, {}).expect(404);

    expect(other.text).toContain('Case not found');
    expect(other.text.replace(/name="_csrf" value="[^"]+"/g, '')).toBe(missing.text.replace(/name="_csrf" value="[^"]+"/g, ''));
    for (const res of [other, act]) expect(res.text).not.toMatch(/Priya|Robin Lee|T2077/);
    expect(cases.updates).toHaveLength(0);
    // Their own case is there.
    await staff.get(`/cancellations/${CASE_ID}`).expect(200);
  });

  it('then closing a case or acknowledging escalations is refused with 403, and nothing is changed', async () => {
    const { app, cases } = setup();
    const staff = await signIn(app, THERAPIST);
    await staff.post(`/cancellations/${CASE_ID}/actions/close`, { reason: 'other' }).expect(403);
    await staff.post(`/cancellations/${CASE_ID}/actions/acknowledge`, {}).expect(403);
    expect(cases.updates).toHaveLength(0);
  });

  it("then a cancellation is made under their own reference, whatever reference the form posts", async () => {
    const { app, cases } = setup();
    const staff = await signIn(app, THERAPIST);
    const page = await staff.get('/cancellations/new').expect(200);
    expect(page.text).toMatch(/id="therapist-id"[^>]*value="T1042"|value="T1042"[^>]*id="therapist-id"/);

    await staff.post('/cancellations', { ...formFor('T2077'), action: 'submit' }).expect(200);

    expect(cases.submitted[0]!.therapist.id).toBe('T1042');
  });
});

describe('when a clinical lead is signed in', () => {
  it("then every therapist's case is visible, and closing is allowed, recorded as the lead", async () => {
    const { app, cases } = setup();
    const staff = await signIn(app, LEAD);
    await staff.get(`/cancellations/${OTHER_CASE_ID}`).expect(200);
    await staff.post(`/cancellations/${OTHER_CASE_ID}/actions/close`, { reason: 'other', by: 'T2077' }).expect(303);
    expect(cases.updates.map((u) => [u.caseId, u.update, (u.args[0] as { by: string }).by])).toEqual([[OTHER_CASE_ID, 'closeCase', 'LEAD7']]);
  });

  it('then they may cancel on behalf of the therapist they name', async () => {
    const { app, cases } = setup();
    const staff = await signIn(app, LEAD);
    await staff.post('/cancellations', { ...formFor('T2077'), action: 'submit' }).expect(200);
    expect(cases.submitted[0]!.therapist.id).toBe('T2077');
  });
});

describe('the session cookie', () => {
  const cookieOf = (res: request.Response) => ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => /^(__Host-)?shortnotice=/.test(c))!;

  it('when the public address is http (local development), then it is HttpOnly and SameSite=Lax, but not Secure, so browsers keep it', async () => {
    const { app } = setup();
    const cookie = cookieOf(await request(app).get('/auth/sign-in').expect(200));
    expect(cookie).toMatch(/^shortnotice=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it('when the public address is https, then it is a Secure __Host- cookie with no Domain', async () => {
    const { app } = setup({ env: { PUBLIC_BASE_URL: 'https://shortnotice.example.org' } });
    const cookie = cookieOf(await request(app).get('/auth/sign-in').set({ Host: 'shortnotice.example.org', 'X-Forwarded-Proto': 'https' }).expect(200));
    expect(cookie).toMatch(/^__Host-shortnotice=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
    expect(cookie).not.toMatch(/Domain=/i);
  });

  it('when someone signs in, then the session is new: the cookie and the CSRF token from before no longer count', async () => {
    const { app, cases } = setup();
    const agent = request.agent(app);
    const form = await agent.get('/auth/sign-in').expect(200);
    const before = csrfFrom(form.text);
    const planted = cookieOf(form);
    const signedIn = await agent.post('/auth/sign-in').type('form').send({ _csrf: before, role: 'therapist', ref: 'T1042', name: 'Alex Morgan', email: '' }).expect(303);
    expect(cookieOf(signedIn).split(';')[0]).not.toBe(planted.split(';')[0]);

    // The pre-sign-in token does not work for the signed-in session...
    await agent.post(`/cancellations/${CASE_ID}/actions/risk`).type('form').send({ _csrf: before }).expect(403);
    // ...and the cookie from before sign-in is still anonymous.
    await request(app).get('/cancellations/new').set('Cookie', planted.split(';')[0]!).expect(303);
    expect(cases.updates).toHaveLength(0);
  });

  it('when the session has been idle for longer than SESSION_IDLE_MINUTES, then it is over', async () => {
    const clock = { now: Date.now() };
    const { app } = setup({ clock, env: { SESSION_IDLE_MINUTES: '30' } });
    const staff = await signIn(app, THERAPIST);
    clock.now += 29 * MINUTE;
    await staff.get('/cancellations/new').expect(200);
    clock.now += 29 * MINUTE; // active 29 minutes ago: still in
    await staff.get('/cancellations/new').expect(200);
    clock.now += 31 * MINUTE;
    await staff.get('/cancellations/new').expect(303);
  });

  it('when the session is older than SESSION_ABSOLUTE_HOURS, then it is over however active it was', async () => {
    const clock = { now: Date.now() };
    const { app } = setup({ clock, env: { SESSION_ABSOLUTE_HOURS: '2', SESSION_IDLE_MINUTES: '30' } });
    const staff = await signIn(app, THERAPIST);
    for (let i = 0; i < 5; i++) {
      clock.now += 20 * MINUTE;
      await staff.get('/cancellations/new').expect(200);
    }
    clock.now += 21 * MINUTE; // 2 h 1 min after sign-in
    await staff.get('/cancellations/new').expect(303);
  });

  it('when the cookie is altered or sealed with another key, then the visitor is signed out', async () => {
    const { app } = setup();
    const staff = await signIn(app, THERAPIST);
    const page = await staff.get('/cancellations/new').expect(200);
    expect(page.text).toContain('Alex Morgan (T1042, therapist)');
    const { value } = staff.agent.jar.getCookie('shortnotice', { domain: '127.0.0.1', path: '/', script: false, secure: false }) ?? { value: '' };
    expect(value.length).toBeGreaterThan(20);
    const altered = value.slice(0, -3) + (value.endsWith('AAA') ? 'BBB' : 'AAA');
    await request(app).get('/cancellations/new').set('Cookie', `shortnotice=${altered}`).expect(303);
    const { app: otherKeys } = setup({ env: { SESSION_KEYS: `s1:${Buffer.alloc(32, 7).toString('base64')}` } });
    await request(otherKeys).get('/cancellations/new').set('Cookie', `shortnotice=${value}`).expect(303);
  });

  it('when staff sign out, then the cookie is cleared and the next page asks them to sign in', async () => {
    const { app } = setup();
    const staff = await signIn(app, THERAPIST);
    const res = await staff.post('/auth/sign-out').expect(200);
    expect(cookieOf(res)).toMatch(/^shortnotice=; .*Max-Age=0/);
    expect(res.text).toContain('You have signed out');
    await staff.get('/cancellations/new').expect(303);
  });
});

describe('the JSON API', () => {
  it.each([
    ['no Authorization header', undefined],
    ['a wrong token of the same length', `Bearer ${'x'.repeat(API_TOKEN.length)}`],
    ['the token with one character changed', `Bearer ${API_TOKEN.slice(0, -1)}${API_TOKEN.endsWith('a') ? 'b' : 'a'}`],
    ['a prefix of the token', `Bearer ${API_TOKEN.slice(0, 20)}`],
    ['the token with a suffix', `Bearer ${API_TOKEN}x`],
    ['basic authentication', `Basic ${Buffer.from(`tests:${API_TOKEN}`).toString('base64')}`],
    ['a staff session cookie instead of a token', 'cookie'],
  ])('when called with %s, then it answers 401 and starts nothing', async (_name, header) => {
    const { app, cases } = setup();
    let req = request(app).post('/api/cancellations');
    if (header === 'cookie') {
      const staff = await signIn(app, LEAD);
      req = staff.agent.post('/api/cancellations');
    } else if (header) req = req.set('Authorization', header);
    const res = await req.send(validSubmission()).expect(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(cases.submit).not.toHaveBeenCalled();
    await request(app).get(`/api/cancellations/${CASE_ID}`).expect(401);
  });

  it('when no API tokens are configured, then every call is refused', async () => {
    const { app, cases } = setup({ env: { API_TOKENS: '' } });
    await request(app).post('/api/cancellations').set('Authorization', `Bearer ${API_TOKEN}`).send(validSubmission()).expect(401);
    expect(cases.submit).not.toHaveBeenCalled();
  });

  it('when tokens are compared, then each configured token is checked, the right one is named, and junk is refused', () => {
    const match = bearerMatcher([
      { name: 'a', token: 'a'.repeat(40) },
      { name: 'b', token: 'b'.repeat(40) },
    ]);
    expect(match(`Bearer ${'b'.repeat(40)}`)?.name).toBe('b');
    expect(match(`Bearer ${'a'.repeat(40)}`)?.name).toBe('a');
    for (const junk of [undefined, '', 'Bearer', 'Bearer ', `Bearer ${'a'.repeat(39)}`, `bearer ${'a'.repeat(40)}`, `Bearer ${'a'.repeat(40)}\r\nX: y`, `Bearer ${'a'.repeat(5000)}`]) {
      expect(match(junk)).toBeUndefined();
    }
  });
});

describe('the development sign-in', () => {
  const production = {
    NODE_ENV: 'production',
    LINK_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
    SESSION_KEYS: `s1:${Buffer.alloc(32, 2).toString('base64')}`,
    PAYLOAD_KEYS: `p1:${Buffer.alloc(32, 3).toString('base64')}`,
    CASE_ID_KEY: Buffer.alloc(32, 4).toString('base64'),
    PUBLIC_BASE_URL: 'https://shortnotice.example.org',
  };

  it('when NODE_ENV is production, then configuration refuses AUTH_MODE=dev and requires OpenID Connect', () => {
    expect(() => loadConfig({ ...production, AUTH_MODE: 'dev' })).toThrow(/AUTH_MODE: the development sign-in cannot be used in production/);
    expect(() => loadConfig(production)).toThrow(/OIDC_ISSUER_URL: required/);
    const ok = loadConfig({ ...production, OIDC_ISSUER_URL: 'https://login.example.org', OIDC_CLIENT_ID: 'shortnotice' });
    expect(ok.auth.mode).toBe('oidc');
    expect(ok.auth.secureCookies).toBe(true);
  });

  it('when production has an http address or no keys of its own, then it refuses to start', () => {
    const oidc = { OIDC_ISSUER_URL: 'https://login.example.org', OIDC_CLIENT_ID: 'shortnotice' };
    expect(() => loadConfig({ ...production, ...oidc, PUBLIC_BASE_URL: 'http://shortnotice.example.org' })).toThrow(/PUBLIC_BASE_URL: must be https/);
    expect(() => loadConfig({ ...production, ...oidc, SESSION_KEYS: '' })).toThrow(/SESSION_KEYS: required in production/);
    expect(() => loadConfig({ ...production, ...oidc, PAYLOAD_KEYS: '' })).toThrow(/PAYLOAD_KEYS: required in production/);
  });

  it('when a config claiming production and dev sign-in reaches createApp anyway, then the app will not build', () => {
    const config = testConfig();
    expect(config.auth.mode).toBe('dev');
    const d = makeDeps({ config: { ...config, env: 'production' } });
    expect(() => createApp(d.deps)).toThrow(/development sign-in cannot run in production/);
  });

  it('when the page is shown, then it says plainly that it is for development only', async () => {
    const { app } = setup();
    const res = await request(app).get('/auth/sign-in').expect(200);
    expect(res.text).toContain('For development only');
    expect(res.text).toContain('Anyone can sign in here as anyone');
  });

  it.each([
    ['an unknown role', { role: 'admin' }, 'role'],
    ['no reference', { ref: '' }, 'ref'],
    ['a reference with a line break', { ref: 'T1\r\n042' }, 'ref'],
    ['a name carrying a header', { name: 'Alex\r\nBcc: x@example.org' }, 'name'],
    ['a bad email address', { email: 'not-an-email' }, 'email'],
  ])('when the form has %s, then it is refused beside the field and nobody is signed in', async (_name, change, field) => {
    const { app } = setup();
    const agent = request.agent(app);
    const form = await agent.get('/auth/sign-in').expect(200);
    const res = await agent
      .post('/auth/sign-in')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), role: 'therapist', ref: 'T1042', name: 'Alex', email: '', ...change })
      .expect(422);
    expect(res.text).toContain(`href="#${field}"`);
    await agent.get('/cancellations/new').expect(303);
  });
});

/** A valid form body for one session of therapist `ref` (posted with the signed-in agent). */
function formFor(ref: string): Record<string, string> {
  const start = new Date(Date.now() + 3 * 86_400_000);
  const slot = new Date(Date.now() + 5 * 86_400_000);
  const local = (d: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
  return {
    'therapist-id': ref,
    'therapist-name': 'Robin Lee',
    'therapist-email': 'robin.lee@example.org',
    reason: 'illness',
    'session-0-id': 'S-9',
    'session-0-start-date': local(start),
    'session-0-start-time': '10:00',
    'session-0-client-ref': 'C-9',
    'session-0-first-name': 'Kim',
    'session-0-contact': 'email',
    'session-0-email': 'kim@example.org',
    'session-0-rebook': 'slots',
    'session-0-slot-0': `${local(slot)} 10:00`,
  };
}
