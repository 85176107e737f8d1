/**
 * OpenID Connect sign-in against a small identity provider on 127.0.0.1 (discovery, JWKS, a
 * token endpoint that checks PKCE, RS256 ID tokens), through the real openid-client: the app
 * sends PKCE S256, state and nonce, accepts only the answer to its own request, and takes the
 * role and staff reference from the ID token.
 */
import request from 'supertest';
import { createApp } from '../../src/web/app';
import { staffFromClaims } from '../../src/web/security/oidc';
import { caseView, CASE_ID, makeDeps, OTHER_CASE_ID, testConfig } from '../web/fakes';
import { CLIENT_ID, FakeIdp } from '../helpers/fake-idp';

let idp: FakeIdp;
beforeAll(async () => {
  idp = new FakeIdp();
  await idp.start();
});
afterAll(() => idp.stop());

function setup() {
  const config = testConfig({ OIDC_ISSUER_URL: idp.url, OIDC_CLIENT_ID: CLIENT_ID, PUBLIC_BASE_URL: 'http://localhost:3000' });
  const d = makeDeps({ config });
  d.cases.add(caseView());
  d.cases.add(caseView({ caseId: OTHER_CASE_ID, therapistId: 'T2077' }));
  return { ...d, app: createApp(d.deps) };
}

/** Starts sign-in at the app; the provider's authorize URL it redirects to. */
async function start(agent: ReturnType<typeof request.agent>): Promise<string> {
  const res = await agent.get('/auth/sign-in').expect(303);
  return res.headers.location!;
}

const THERAPIST_CLAIMS = { roles: ['therapist'], staff_ref: 'T1042', name: 'Alex Morgan', email: 'alex.morgan@example.org' };

describe('OpenID Connect sign-in', () => {
  it('when a configured issuer is set, then the development sign-in is off', () => {
    expect(setup().config.auth.mode).toBe('oidc');
  });

  it('when a therapist signs in at the provider, then they come back signed in, with their role and reference from the ID token', async () => {
    const { app } = setup();
    const agent = request.agent(app);
    const authorize = await start(agent);
    expect(new URL(authorize).searchParams.get('redirect_uri')).toBe('http://localhost:3000/auth/callback');
    const { code, state } = idp.authorize(authorize, THERAPIST_CLAIMS);

    const back = await agent.get(`/auth/callback?code=${code}&state=${state}`).expect(303);
    expect(back.headers.location).toBe('/cancellations');

    const page = await agent.get('/cancellations/new').expect(200);
    expect(page.text).toContain('Alex Morgan (T1042, therapist)');
    await agent.get(`/cancellations/${CASE_ID}`).expect(200);
    await agent.get(`/cancellations/${OTHER_CASE_ID}`).expect(404);
    // The development form does not exist in this mode.
    await agent.post('/auth/sign-in').type('form').send({ role: 'clinical-lead', ref: 'X', name: 'X' }).expect((r) => expect([403, 405]).toContain(r.status));
  });

  it('when the answer carries another state (a login forged from elsewhere), then sign-in fails and nobody is signed in', async () => {
    const { app } = setup();
    const agent = request.agent(app);
    const { code } = idp.authorize(await start(agent), THERAPIST_CLAIMS);
    const res = await agent.get(`/auth/callback?code=${code}&state=${'x'.repeat(43)}`).expect(400);
    expect(res.text).toContain('Sign-in did not finish');
    await agent.get('/cancellations/new').expect(303);
  });

  it("when a code is brought back in another browser (no transaction there), then it is refused without asking the provider", async () => {
    const { app } = setup();
    const { code, state } = idp.authorize(await start(request.agent(app)), THERAPIST_CLAIMS);
    const before = idp.tokenRequests;
    await request.agent(app).get(`/auth/callback?code=${code}&state=${state}`).expect(400);
    expect(idp.tokenRequests).toBe(before);
  });

  it('when the account has no role for this service, then sign-in is refused with 403', async () => {
    const { app } = setup();
    const agent = request.agent(app);
    const { code, state } = idp.authorize(await start(agent), { ...THERAPIST_CLAIMS, roles: ['receptionist'] });
    const res = await agent.get(`/auth/callback?code=${code}&state=${state}`).expect(403);
    expect(res.text).toContain('Your account cannot use this service');
    await agent.get('/cancellations/new').expect(303);
  });

  it('when a callback is replayed, then the second use fails: the transaction was spent', async () => {
    const { app } = setup();
    const agent = request.agent(app);
    const { code, state } = idp.authorize(await start(agent), THERAPIST_CLAIMS);
    await agent.get(`/auth/callback?code=${code}&state=${state}`).expect(303);
    const before = idp.tokenRequests;
    await agent.get(`/auth/callback?code=${code}&state=${state}`).expect(400);
    expect(idp.tokenRequests).toBe(before);
  });

  it('when claims are mapped, then a clinical lead role wins, nested role claims work, and a missing or odd reference is refused', () => {
    const config = setup().config.auth.oidc!;
    expect(staffFromClaims(config, { roles: ['therapist', 'clinical-lead'], staff_ref: 'LEAD7', name: 'Jo' }).role).toBe('clinical-lead');
    expect(staffFromClaims(config, { roles: 'therapist other', staff_ref: 'T1', given_name: 'Al', family_name: 'M' })).toMatchObject({ role: 'therapist', name: 'Al M' });
    expect(staffFromClaims({ ...config, roleClaim: 'realm_access.roles' }, { realm_access: { roles: ['therapist'] }, staff_ref: 'T1' }).role).toBe('therapist');
    expect(() => staffFromClaims(config, { roles: ['therapist'] })).toThrow(/staff reference/);
    expect(() => staffFromClaims(config, { roles: ['therapist'], staff_ref: 'T1\r\nX' })).toThrow(/staff reference/);
    expect(staffFromClaims(config, { roles: ['therapist'], staff_ref: 'T1', name: 'Evil\r\nBcc: x', email: 'a@b\r\n' })).toMatchObject({ name: 'T1', email: undefined });
  });
});
