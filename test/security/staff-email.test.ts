/**
 * S10: the therapist's email address gets call tasks, which carry the client's phone number. Under
 * OpenID Connect it must come from the identity provider (a therapist's own), or be at one of the
 * allow-listed staff domains (STAFF_EMAIL_DOMAINS: a lead cancelling for a therapist, an
 * integration); never whatever was typed. The external services' addresses must be https in
 * production. (The call task reaching the right inbox over SMTP is in stack.test.ts.)
 */
import request from 'supertest';
import { loadConfig } from '../../src/config';
import { createApp } from '../../src/web/app';
import { CLIENT_ID, FakeIdp, signInWithIdp } from '../helpers/fake-idp';
import { TEST_KEYS } from '../helpers/keys';
import { API_TOKEN, csrfFrom, DAY, makeDeps, testConfig, validSubmission } from '../web/fakes';
import { isoToUkLocal } from '../../src/web/uk-time';

let idp: FakeIdp;
beforeAll(async () => {
  idp = new FakeIdp();
  await idp.start();
});
afterAll(() => idp.stop());

const IDP_EMAIL = 'alex.morgan@vhg.example';
const THERAPIST_CLAIMS = { roles: ['therapist'], staff_ref: 'T1042', name: 'Alex Morgan', email: IDP_EMAIL };
const LEAD_CLAIMS = { roles: ['clinical-lead'], staff_ref: 'LEAD7', name: 'Jo Patel', email: 'jo.patel@vhg.example' };

function setup(env: NodeJS.ProcessEnv = {}) {
  const d = makeDeps({ config: testConfig({ OIDC_ISSUER_URL: idp.url, OIDC_CLIENT_ID: CLIENT_ID, ...env }) });
  return { ...d, app: createApp(d.deps) };
}

const local = (ms: number) => isoToUkLocal(new Date(Date.now() + ms - ((Date.now() + ms) % 60_000)).toISOString())!;

/** A phone client's cancellation, as the form posts it, with `therapistEmail` typed in. */
function phoneCancellation(therapistEmail: string, therapistId = 'T1042') {
  const start = local(3 * DAY);
  return {
    'therapist-id': therapistId,
    'therapist-name': 'Alex Morgan',
    'therapist-email': therapistEmail,
    reason: 'illness',
    'session-0-id': 'S-10',
    'session-0-start-date': start.date,
    'session-0-start-time': start.time,
    'session-0-client-ref': 'C-77',
    'session-0-first-name': 'Sam',
    'session-0-contact': 'phone',
    'session-0-phone': '07700 900123',
    'session-0-rebook': 'callback',
    'session-0-callback': local(2 * DAY).dateTime,
    action: 'submit',
  };
}

/** Posts the form as the signed-in browser would, expecting `status`. */
async function postForm(agent: ReturnType<typeof request.agent>, body: Record<string, string>, status: number) {
  const page = await agent.get('/cancellations/new').expect(200);
  return agent
    .post('/cancellations')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), ...body })
    .expect(status);
}

describe('S10 staff addresses come from the identity provider or an allow-listed domain', () => {
  it("S10 a therapist signed in with OIDC who types another address still gets their call tasks at the identity provider's address", async () => {
    const { app, cases } = setup();
    const agent = await signInWithIdp(app, idp, THERAPIST_CLAIMS);
    await postForm(agent, phoneCancellation('attacker@evil.example'), 200);
    expect(cases.submitted.map((s) => s.therapist.email)).toEqual([IDP_EMAIL]);
    // The form shows the address it will use, and does not offer to change it.
    const page = await agent.get('/cancellations/new').expect(200);
    expect(page.text).toContain(IDP_EMAIL);
    expect(page.text).toMatch(/id="therapist-email"[^>]*readonly/);
  });

  it('S10 a clinical lead cancelling for a therapist must give an address at a staff domain', async () => {
    const { app, cases } = setup({ STAFF_EMAIL_DOMAINS: 'vhg.example, nhs.net' });
    const agent = await signInWithIdp(app, idp, LEAD_CLAIMS);
    const refused = await postForm(agent, phoneCancellation('alex.morgan@evil.example'), 422);
    expect(refused.text).toContain('Enter the therapist’s work address: it must end @vhg.example or @nhs.net');
    expect(cases.submit).not.toHaveBeenCalled();
    await postForm(agent, phoneCancellation('Alex.Morgan@NHS.net'), 200);
    expect(cases.submitted.map((s) => s.therapist.email)).toEqual(['Alex.Morgan@NHS.net']);
  });

  it('S10 under OIDC without STAFF_EMAIL_DOMAINS, a typed address is refused and the message says what to configure', async () => {
    const { app, cases } = setup();
    const agent = await signInWithIdp(app, idp, LEAD_CLAIMS);
    const refused = await postForm(agent, phoneCancellation('alex.morgan@vhg.example'), 422);
    expect(refused.text).toContain('STAFF_EMAIL_DOMAINS');
    expect(cases.submit).not.toHaveBeenCalled();
  });

  it('S10 an integration under OIDC can submit only addresses at a staff domain', async () => {
    const { app, cases } = setup({ STAFF_EMAIL_DOMAINS: 'vhg.example' });
    const submit = (email: string) =>
      request(app)
        .post('/api/cancellations')
        .set('Authorization', `Bearer ${API_TOKEN}`)
        .send(validSubmission({ therapist: { id: 'T1042', name: 'Alex Morgan', email } }));
    const refused = await submit('attacker@evil.example').expect(400);
    expect(refused.body.errors).toEqual([
      { path: 'therapist.email', message: 'The therapist’s address must end @vhg.example' },
    ]);
    expect(cases.submit).not.toHaveBeenCalled();
    await submit('alex.morgan@vhg.example').expect(201);
  });

  it('S10 with the development sign-in and no STAFF_EMAIL_DOMAINS, addresses are free (development only)', async () => {
    const d = makeDeps();
    const app = createApp(d.deps);
    await request(app)
      .post('/api/cancellations')
      .set('Authorization', `Bearer ${API_TOKEN}`)
      .send(validSubmission())
      .expect(201);
  });

  it('S10 NOTIFY_BASE_URL and MPB_BASE_URL must be https in production; STAFF_EMAIL_DOMAINS must be domains', () => {
    const production = {
      NODE_ENV: 'production',
      PUBLIC_BASE_URL: 'https://shortnotice.example.org',
      OIDC_ISSUER_URL: 'https://login.example.org',
      OIDC_CLIENT_ID: 'x',
      ...TEST_KEYS,
    };
    expect(() => loadConfig({ ...production, NOTIFY_BASE_URL: 'http://notify.internal' })).toThrow(
      /NOTIFY_BASE_URL: must be https in production/,
    );
    expect(() => loadConfig({ ...production, MPB_MODE: 'mpb', MPB_BASE_URL: 'http://mpb.internal' })).toThrow(
      /MPB_BASE_URL: must be https in production/,
    );
    expect(() => loadConfig({ ...production, MPB_MODE: 'mpb', MPB_BASE_URL: 'https://mpb.internal' })).not.toThrow();
    expect(() => loadConfig({ STAFF_EMAIL_DOMAINS: '@vhg.example' })).toThrow(/STAFF_EMAIL_DOMAINS/);
    expect(loadConfig({ STAFF_EMAIL_DOMAINS: 'VHG.example, nhs.net' }).auth.staffEmailDomains).toEqual([
      'vhg.example',
      'nhs.net',
    ]);
  });
});
