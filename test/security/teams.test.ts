/**
 * D2 (the web side): a member of the escalation team belongs to one team, risk duty, the
 * clinical network team or support. Under OpenID Connect it comes from a claim (OIDC_TEAM_CLAIM,
 * values configurable like the roles); the development sign-in lets them choose. It is on the
 * signed-in staff user and in the sealed session, so the case workflow's rules can use it (only
 * risk duty or a clinical lead acknowledges a risk alert).
 */
import request from 'supertest';
import { parseKeyList } from '../../src/keys';
import { createApp } from '../../src/web/app';
import { staffFromClaims } from '../../src/web/security/oidc';
import { cookieName, SessionSealer } from '../../src/web/security/session';
import { CLIENT_ID, FakeIdp, signInWithIdp } from '../helpers/fake-idp';
import { TEST_KEYS } from '../helpers/keys';
import { csrfFrom, makeDeps, testConfig } from '../web/fakes';

let idp: FakeIdp;
beforeAll(async () => {
  idp = new FakeIdp();
  await idp.start();
});
afterAll(() => idp.stop());

/** The staff user in the session cookie the agent holds, opened with the session key. */
async function sessionUser(agent: ReturnType<typeof request.agent>) {
  const res = await agent.get('/healthz');
  // The Cookie header the agent sent: node's ClientRequest under supertest's response.
  const sent = String((res as unknown as { req: { getHeader(name: string): unknown } }).req.getHeader('cookie') ?? '');
  const name = `${cookieName(testConfig().auth)}=`;
  const value = sent
    .split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(name))
    ?.slice(name.length);
  return new SessionSealer(parseKeyList(TEST_KEYS.SESSION_KEYS)).open(value ?? '')?.user;
}

const ESCALATION_CLAIMS = {
  roles: ['escalation-team'],
  staff_ref: 'RISK4',
  name: 'Morgan Reyes',
  email: 'morgan.reyes@vhg.example',
};

describe('D2 the escalation team member’s team', () => {
  it('D2 the escalation team member’s team comes from the OIDC claim, into the staff user and the session', async () => {
    const app = createApp(
      makeDeps({ config: testConfig({ OIDC_ISSUER_URL: idp.url, OIDC_CLIENT_ID: CLIENT_ID }) }).deps,
    );
    const agent = await signInWithIdp(app, idp, { ...ESCALATION_CLAIMS, team: 'risk' });
    expect(await sessionUser(agent)).toMatchObject({ role: 'escalation-team', ref: 'RISK4', team: 'risk' });
    const page = await agent.get('/cancellations/new').expect(403);
    expect(page.text).toContain('Morgan Reyes (RISK4, escalation team: risk duty)');
  });

  it('D2 the escalation team member’s team comes from a configured claim and values; none, several or an unknown value gives no team', () => {
    const config = testConfig({
      OIDC_ISSUER_URL: idp.url,
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_TEAM_CLAIM: 'groups',
      OIDC_RISK_TEAM: 'pts-risk-duty',
      OIDC_NETWORK_TEAM: 'clinical-network',
      OIDC_SUPPORT_TEAM: 'vita-support',
    }).auth.oidc!;
    const user = (claims: Record<string, unknown>) => staffFromClaims(config, { ...ESCALATION_CLAIMS, ...claims });
    expect(user({ groups: ['staff', 'pts-risk-duty'] }).team).toBe('risk');
    expect(user({ groups: 'clinical-network' }).team).toBe('network');
    expect(user({ groups: ['vita-support'] }).team).toBe('support');
    // The default value is no longer a team once another is configured.
    expect(user({ groups: ['risk'] }).team).toBeUndefined();
    expect(user({ groups: ['pts-risk-duty', 'vita-support'] }).team).toBeUndefined();
    expect(user({}).team).toBeUndefined();
    // Only the escalation team has teams: a therapist or a lead claiming one gets none.
    expect(user({ roles: ['therapist'], groups: ['pts-risk-duty'] }).team).toBeUndefined();
    expect(user({ roles: ['clinical-lead'], groups: ['pts-risk-duty'] }).team).toBeUndefined();
  });

  it('D2 the escalation team member’s team comes from the development sign-in, where they choose it', async () => {
    const app = createApp(makeDeps().deps);
    const agent = request.agent(app);
    const form = await agent.get('/auth/sign-in').expect(200);
    expect(form.text).toContain('name="team"');
    await agent
      .post('/auth/sign-in')
      .type('form')
      .send({
        _csrf: csrfFrom(form.text),
        role: 'escalation-team',
        team: 'network',
        ref: 'NET2',
        name: 'Kit Evans',
        email: '',
      })
      .expect(303);
    expect(await sessionUser(agent)).toMatchObject({ role: 'escalation-team', ref: 'NET2', team: 'network' });

    // A therapist cannot pick up a team on the way in; an unknown team is refused.
    const other = request.agent(app);
    const again = await other.get('/auth/sign-in').expect(200);
    const refused = await other
      .post('/auth/sign-in')
      .type('form')
      .send({ _csrf: csrfFrom(again.text), role: 'escalation-team', team: 'admins', ref: 'X1', name: 'X', email: '' })
      .expect(422);
    expect(refused.text).toContain('Choose risk duty, the clinical network team or support');
    await other
      .post('/auth/sign-in')
      .type('form')
      .send({
        _csrf: csrfFrom(again.text),
        role: 'therapist',
        team: 'risk',
        ref: 'T1042',
        name: 'Alex Morgan',
        email: '',
      })
      .expect(303);
    expect(await sessionUser(other)).toEqual(expect.not.objectContaining({ team: expect.anything() }));
  });
});
