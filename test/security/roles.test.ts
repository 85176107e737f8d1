/**
 * The escalation team (risk duty, the clinical network team and support): the people the
 * escalation emails send to a case page. They see every case, take a therapist's actions on any
 * case and acknowledge escalations, but only a clinical lead closes a case; they do not cancel
 * sessions and cannot use the codec. Therapists keep their own-case rule.
 */
import request from 'supertest';
import { createApp } from '../../src/web/app';
import { mayTake, ACTION_NAMES } from '../../src/web/case-actions';
import { staffFromClaims } from '../../src/web/security/oidc';
import { caseView, escalation, CASE_ID, csrfFrom, ESCALATION, LEAD, makeDeps, OTHER_CASE_ID, OTHER_THERAPIST, signIn, testConfig, THERAPIST } from '../web/fakes';

const ESCALATED = [escalation({ team: 'support', reason: 'MPB is unavailable: support to add the records' })];

function setup() {
  const d = makeDeps();
  d.cases.add(caseView({ escalations: ESCALATED }));
  d.cases.add(caseView({ caseId: OTHER_CASE_ID, therapistId: OTHER_THERAPIST.ref, therapistName: OTHER_THERAPIST.name, clientFirstName: 'Priya', escalations: ESCALATED }));
  return { ...d, app: createApp(d.deps) };
}

const byOf = (args: unknown[]) => (args[0] as { by: string }).by;

describe('when a member of the escalation team is signed in', () => {
  it("then they can open every therapist's case, and the page names their role", async () => {
    const { app } = setup();
    const staff = await signIn(app, ESCALATION);

    for (const id of [CASE_ID, OTHER_CASE_ID]) {
      const page = await staff.get(`/cancellations/${id}`).expect(200);
      expect(page.text).toContain('Kit Evans (SUP3, escalation team)');
    }
    await staff.get('/cancellations/c99999999999999999999').expect(404);
  });

  it("then they can record a phone outcome and confirm a record on a case that is not theirs, recorded as themselves", async () => {
    const { app, cases } = setup();
    const staff = await signIn(app, ESCALATION);

    await staff.post(`/cancellations/${OTHER_CASE_ID}/actions/phone-outcome`, { reached: 'no', by: 'T2077' }).expect(303);
    await staff.post(`/cancellations/${OTHER_CASE_ID}/actions/confirm-record`, { record: 'attendance' }).expect(303);

    expect(cases.updates.map((u) => [u.caseId, u.update, byOf(u.args)])).toEqual([
      [OTHER_CASE_ID, 'recordPhoneOutcome', 'SUP3'],
      [OTHER_CASE_ID, 'confirmRecord', 'SUP3'],
    ]);
  });

  it('then the page offers every action but closing, acknowledging included', async () => {
    const { app } = setup();
    const staff = await signIn(app, ESCALATION);

    const page = await staff.get(`/cancellations/${OTHER_CASE_ID}`).expect(200);

    for (const name of ['phone-outcome', 'rebooking', 'absence', 'confirm-record', 'records-unavailable', 'risk', 'unhappy', 'acknowledge']) {
      expect(page.text).toContain(`action="/cancellations/${OTHER_CASE_ID}/actions/${name}"`);
    }
    expect(page.text).not.toContain(`action="/cancellations/${OTHER_CASE_ID}/actions/close"`);
  });

  it('then they can acknowledge escalations, recorded as themselves', async () => {
    const { app, cases } = setup();
    const staff = await signIn(app, ESCALATION);

    await staff.post(`/cancellations/${OTHER_CASE_ID}/actions/acknowledge`, { escalation: 'esc-1' }).expect(303);

    expect(cases.updates.map((u) => [u.caseId, u.update, byOf(u.args)])).toEqual([[OTHER_CASE_ID, 'acknowledgeEscalation', 'SUP3']]);
  });

  it('then closing a case is refused with 403 and nothing is run', async () => {
    const { app, cases } = setup();
    const staff = await signIn(app, ESCALATION);

    const res = await staff.post(`/cancellations/${OTHER_CASE_ID}/actions/close`, { reason: 'other' }).expect(403);

    expect(res.text).toContain('Only a clinical lead can close a case.');
    expect(cases.act).not.toHaveBeenCalled();
    expect(cases.updates).toHaveLength(0);
  });

  it('then the cancellation form is refused (they do not cancel sessions), and they can still sign out from that page', async () => {
    const { app, cases } = setup();
    const staff = await signIn(app, ESCALATION);

    const form = await staff.get('/cancellations/new').expect(403);
    expect(form.text).toContain('You cannot do this');
    await staff.post('/cancellations', { action: 'submit' }).expect(403);
    expect(cases.submit).not.toHaveBeenCalled();

    await staff.post('/auth/sign-out').expect(200);
    await staff.get(`/cancellations/${CASE_ID}`).expect(303);
  });

  it('then the codec refuses them, as it does therapists', async () => {
    const { app } = setup();
    const staff = await signIn(app, ESCALATION);
    await staff.agent.post('/codec/decode').set({ Origin: 'http://localhost:8233', 'X-Namespace': 'default' }).send({ payloads: [] }).expect(403);
  });
});

describe('who may take which action', () => {
  it('then a clinical lead takes every action, the escalation team all but closing, a therapist neither closing, acknowledging nor naming a cover', () => {
    const allowed = (role: Parameters<typeof mayTake>[0]) => ACTION_NAMES.filter((a) => mayTake(role, a));
    expect(allowed('clinical-lead')).toEqual([...ACTION_NAMES]);
    expect(allowed('escalation-team')).toEqual(ACTION_NAMES.filter((a) => a !== 'close'));
    expect(allowed('therapist')).toEqual(ACTION_NAMES.filter((a) => a !== 'close' && a !== 'acknowledge' && a !== 'cover'));
  });

  it("then a therapist still sees only their own case, and a lead still closes", async () => {
    const { app, cases } = setup();
    const therapist = await signIn(app, THERAPIST);
    await therapist.get(`/cancellations/${OTHER_CASE_ID}`).expect(404);
    await therapist.post(`/cancellations/${OTHER_CASE_ID}/actions/phone-outcome`, { reached: 'no' }).expect(404);
    await therapist.post(`/cancellations/${CASE_ID}/actions/acknowledge`, {}).expect(403);
    expect(cases.updates).toHaveLength(0);

    const lead = await signIn(app, LEAD);
    await lead.post(`/cancellations/${OTHER_CASE_ID}/actions/close`, { reason: 'other' }).expect(303);
    expect(cases.updates.map((u) => u.update)).toEqual(['closeCase']);
  });
});

describe('signing in as the escalation team', () => {
  it('when the development sign-in is shown, then it offers the escalation team as a role, and signing in as it works', async () => {
    const { app } = setup();
    const agent = request.agent(app);
    const form = await agent.get('/auth/sign-in').expect(200);
    expect(form.text).toMatch(/<input[^>]*value="escalation-team"/);
    expect(form.text).toContain('Escalation team');

    await agent
      .post('/auth/sign-in')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), role: 'escalation-team', ref: 'SUP3', name: 'Kit Evans', email: '' })
      .expect(303);
    await agent.get(`/cancellations/${OTHER_CASE_ID}`).expect(200);
  });

  const oidcEnv = { OIDC_ISSUER_URL: 'https://login.example.org', OIDC_CLIENT_ID: 'shortnotice' };

  it('when OIDC claims carry the escalation team role, then it is mapped; a clinical lead role still wins, and it wins over therapist', () => {
    const config = testConfig(oidcEnv).auth.oidc!;
    expect(config.roles['escalation-team']).toBe('escalation-team');
    expect(staffFromClaims(config, { roles: ['escalation-team'], staff_ref: 'SUP3', name: 'Kit Evans' })).toMatchObject({ role: 'escalation-team', ref: 'SUP3', via: 'oidc' });
    expect(staffFromClaims(config, { roles: 'therapist escalation-team', staff_ref: 'SUP3' }).role).toBe('escalation-team');
    expect(staffFromClaims(config, { roles: ['escalation-team', 'clinical-lead'], staff_ref: 'LEAD7' }).role).toBe('clinical-lead');
  });

  it('when OIDC_ESCALATION_TEAM_ROLE names another value, then that value is the role and the default no longer is', () => {
    const config = testConfig({ ...oidcEnv, OIDC_ESCALATION_TEAM_ROLE: 'shortnotice-risk-network-support' }).auth.oidc!;
    expect(staffFromClaims(config, { roles: ['shortnotice-risk-network-support'], staff_ref: 'SUP3' }).role).toBe('escalation-team');
    expect(() => staffFromClaims(config, { roles: ['escalation-team'], staff_ref: 'SUP3' })).toThrow(/no role/);
  });
});
