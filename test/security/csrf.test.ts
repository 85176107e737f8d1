/**
 * Cross-site request forgery: every form needs its page's token, and the browser must say the
 * post came from this site. Each refusal is a 403 that starts and changes nothing.
 */
import request from 'supertest';
import { createApp } from '../../src/web/app';
import { CsrfTokens, linkBinding } from '../../src/web/security/csrf';
import { caseView, escalation, CASE_ID, DAY, LEAD, makeDeps, signIn, type Staff } from '../web/fakes';

function setup() {
  const d = makeDeps();
  d.cases.add(caseView({ escalations: [escalation({ reason: 'Unhappy' })] }));
  const app = createApp(d.deps);
  const token = d.links.seal(CASE_ID, 'choose', 14 * DAY);
  const csrf = new CsrfTokens(d.config.auth.sessionKeys);
  return { ...d, app, token, linkCsrf: csrf.issue(linkBinding(token)), csrf };
}

/** The staff forms, each with a body that would otherwise go through. */
const STAFF_FORMS: [string, Record<string, string>][] = [
  ['/cancellations', { action: 'submit' }],
  [`/cancellations/${CASE_ID}/actions/risk`, {}],
  [`/cancellations/${CASE_ID}/actions/close`, { reason: 'other' }],
  [`/cancellations/${CASE_ID}/actions/acknowledge`, {}],
  ['/auth/sign-out', {}],
];

type Variant = [string, (staff: Staff, other: Staff) => Record<string, string>];
const TOKEN_VARIANTS: Variant[] = [
  ['no token', () => ({})],
  ['an empty token', () => ({ _csrf: '' })],
  ['a wrong token', () => ({ _csrf: 'A'.repeat(43) })],
  ['the token with one character changed', (s) => ({ _csrf: s.csrf.slice(0, -1) + (s.csrf.endsWith('A') ? 'B' : 'A') })],
  ["another session's token", (_s, other) => ({ _csrf: other.csrf })],
];

describe('staff forms', () => {
  it.each(TOKEN_VARIANTS)('when a form is posted with %s, then every staff form answers 403 and nothing is started or changed', async (_name, tokenFor) => {
    const { app, cases } = setup();
    const staff = await signIn(app, LEAD);
    const other = await signIn(app, LEAD);
    for (const [path, body] of STAFF_FORMS) {
      const res = await staff.agent.post(path).type('form').send({ ...body, ...tokenFor(staff, other) });
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(res.text).toContain('This form could not be sent');
    }
    expect(cases.submit).not.toHaveBeenCalled();
    expect(cases.updates).toHaveLength(0);
    // Still signed in: the refused sign-out did nothing either.
    await staff.get('/cancellations/new').expect(200);
  });

  it.each([
    ['a cross-site Origin', { Origin: 'https://evil.example' }],
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site (a sibling subdomain)', { 'Sec-Fetch-Site': 'same-site' }],
    ['Origin: null from a sandboxed frame elsewhere', { Origin: 'null', 'Sec-Fetch-Site': 'cross-site' }],
    ['Origin: null with no fetch metadata', { Origin: 'null' }],
    ['an Origin that only starts like this site', { Origin: 'http://localhost:3000.evil.example' }],
  ])('when a form with the right token arrives with %s, then it answers 403 and nothing is started', async (_name, headers) => {
    const { app, cases } = setup();
    const staff = await signIn(app, LEAD);
    for (const [path, body] of STAFF_FORMS) {
      const res = await staff.post(path, body).set(headers);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
    expect(cases.submit).not.toHaveBeenCalled();
    expect(cases.updates).toHaveLength(0);
  });

  it('when the same form comes from this site (own Origin, or no-referrer null with same-origin metadata), then it goes through', async () => {
    const { app, cases } = setup();
    const staff = await signIn(app, LEAD);
    await staff.post(`/cancellations/${CASE_ID}/actions/risk`).set({ Origin: 'http://localhost:3000', 'Sec-Fetch-Site': 'same-origin' }).expect(303);
    await staff.post(`/cancellations/${CASE_ID}/actions/risk`).set({ Origin: 'null', 'Sec-Fetch-Site': 'same-origin' }).expect(303);
    expect(cases.updates).toHaveLength(2);
  });

  it('when the development sign-in form is posted without its token, then nobody is signed in', async () => {
    const { app } = setup();
    const agent = request.agent(app);
    await agent.get('/auth/sign-in').expect(200);
    await agent.post('/auth/sign-in').type('form').send({ role: 'clinical-lead', ref: 'LEAD7', name: 'Jo' }).expect(403);
    await agent.get('/cancellations/new').expect(303);
  });

  it('when a token is checked, then its shape is checked before any work, and only the HMAC for this binding passes', () => {
    const { csrf } = setup();
    const good = csrf.issue('session:abc');
    expect(csrf.verify('session:abc', good)).toBe(true);
    expect(csrf.verify('session:abd', good)).toBe(false);
    for (const junk of [undefined, null, 42, ['x'], {}, '', good.slice(1), `${good}A`, 'x'.repeat(100_000)]) expect(csrf.verify('session:abc', junk)).toBe(false);
  });
});

describe("the client's forms", () => {
  it.each([
    ['no token', {}],
    ['a wrong token', { _csrf: 'A'.repeat(43) }],
    ["a staff session's token", 'staff'],
  ])('when a choice is posted with %s, then it answers a calm 403 with crisis signposting, and nothing is booked', async (_name, extra) => {
    const { app, token, cases } = setup();
    let body: Record<string, string> = extra === 'staff' ? {} : (extra as Record<string, string>);
    if (extra === 'staff') body = { _csrf: (await signIn(app, LEAD)).csrf };
    const slot = cases.views.get(CASE_ID)!.offeredSlots[0]!;
    const res = await request(app).post(`/c/${token}`).type('form').send({ ...body, choice: slot }).expect(403);
    expect(res.text).toContain('This form could not be sent');
    expect(res.text).toContain('Samaritans');
    expect(res.text).toContain('0333 222 0710');
    expect(cases.updates).toHaveLength(0);
  });

  it("when one link's token is posted to another client's link, then it is refused", async () => {
    const { app, cases, links, linkCsrf } = setup();
    const other = links.seal(CASE_ID, 'choose', 2 * DAY);
    await request(app).post(`/c/${other}`).type('form').send({ _csrf: linkCsrf, choice: 'call' }).expect(403);
    expect(cases.updates).toHaveLength(0);
  });

  it('when the right token arrives from another site, then it is refused', async () => {
    const { app, token, linkCsrf, cases } = setup();
    await request(app).post(`/c/${token}`).set('Origin', 'https://evil.example').type('form').send({ _csrf: linkCsrf, choice: 'call' }).expect(403);
    await request(app).post(`/c/${token}`).set('Sec-Fetch-Site', 'cross-site').type('form').send({ _csrf: linkCsrf, choice: 'call' }).expect(403);
    expect(cases.updates).toHaveLength(0);
    // ...and from the page itself it works.
    await request(app).post(`/c/${token}`).set({ Origin: 'null', 'Sec-Fetch-Site': 'same-origin' }).type('form').send({ _csrf: linkCsrf, choice: 'call' }).expect(200);
    expect(cases.updates).toHaveLength(1);
  });
});
