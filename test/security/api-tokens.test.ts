/**
 * S9: API tokens carry scopes (submit, read) and, for an integration that serves one team, the
 * therapists it may act for; the API's case view carries no staff free text.
 */
import request from 'supertest';
import { loadConfig } from '../../src/config';
import { createApp } from '../../src/web/app';
import {
  caseView,
  CASE_ID,
  fromNow,
  makeDeps,
  OTHER_CASE_ID,
  signIn,
  LEAD,
  testConfig,
  validSubmission,
} from '../web/fakes';

const READER = 'reader-token-0123456789abcdefghijklmnopqrstu';
const SUBMITTER = 'submitter-token-0123456789abcdefghijklmnop';
const TEAM = 'team-token-0123456789abcdefghijklmnopqrstuvw';
const FULL = 'full-token-0123456789abcdefghijklmnopqrstuvw';
const API_TOKENS = [
  `reader:${READER}:read`,
  `submitter:${SUBMITTER}:submit`,
  `team:${TEAM}:submit+read:T1042+T1043`,
  `full:${FULL}:submit+read`,
].join(',');

const CLOSING_NOTE = 'Canary closing note: the client moved to Leeds after her divorce';
const RISK_NOTE = 'Canary risk note: said they felt unsafe at home';

function setup() {
  const d = makeDeps({ config: testConfig({ API_TOKENS }) });
  d.cases.add(
    caseView({
      risk: true,
      riskNote: RISK_NOTE,
      stage: 'closed',
      closed: { by: 'LEAD7', reason: 'other', note: CLOSING_NOTE, at: fromNow(0) },
    }),
  );
  d.cases.add(caseView({ caseId: OTHER_CASE_ID, therapistId: 'T2077', therapistName: 'Robin Lee' }));
  return { ...d, app: createApp(d.deps) };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const forTherapist = (id: string) =>
  validSubmission({ therapist: { id, name: 'Alex Morgan', email: 'alex.morgan@example.org' } });

describe('S9 API token scopes', () => {
  it('S9 a token with the read scope only cannot submit a cancellation, and starts nothing', async () => {
    const { app, cases } = setup();
    const res = await request(app).post('/api/cancellations').set(bearer(READER)).send(validSubmission()).expect(403);
    expect(res.body.errors[0].message).toMatch(/may not submit cancellations/);
    expect(cases.submit).not.toHaveBeenCalled();
    await request(app).get(`/api/cancellations/${CASE_ID}`).set(bearer(READER)).expect(200);
  });

  it('S9 a token with the submit scope only cannot read cases', async () => {
    const { app } = setup();
    const res = await request(app).get(`/api/cancellations/${CASE_ID}`).set(bearer(SUBMITTER)).expect(403);
    expect(res.body.errors[0].message).toMatch(/may not read cases/);
    expect(res.text).not.toContain('Sam');
    await request(app).post('/api/cancellations').set(bearer(SUBMITTER)).send(validSubmission()).expect(201);
  });

  it("S9 a token restricted to its team's therapists cannot submit for, or read the case of, another therapist", async () => {
    const { app, cases } = setup();
    await request(app).post('/api/cancellations').set(bearer(TEAM)).send(forTherapist('T1042')).expect(201);
    const refused = await request(app)
      .post('/api/cancellations')
      .set(bearer(TEAM))
      .send(forTherapist('T2077'))
      .expect(403);
    expect(refused.body.errors).toEqual([
      { path: 'therapist.id', message: 'This token may submit cancellations for its own therapists only' },
    ]);
    expect(cases.submitted.map((s) => s.therapist.id)).toEqual(['T1042']);
    // Another therapist's case answers like a case that does not exist.
    const other = await request(app).get(`/api/cancellations/${OTHER_CASE_ID}`).set(bearer(TEAM)).expect(404);
    const missing = await request(app).get('/api/cancellations/c99999999999999999999').set(bearer(TEAM)).expect(404);
    expect(other.body).toEqual(missing.body);
    await request(app).get(`/api/cancellations/${CASE_ID}`).set(bearer(TEAM)).expect(200);
  });

  it('S9 the API case view carries no staff free text (risk note, closing note), while the case page still shows them to staff', async () => {
    const { app } = setup();
    const res = await request(app).get(`/api/cancellations/${CASE_ID}`).set(bearer(FULL)).expect(200);
    expect(res.text).not.toContain(CLOSING_NOTE);
    expect(res.text).not.toContain(RISK_NOTE);
    expect(res.body).toMatchObject({
      caseId: CASE_ID,
      stage: 'closed',
      risk: true,
      closed: { by: 'LEAD7', reason: 'other' },
    });
    expect(Object.keys(res.body.closed).sort()).toEqual(['at', 'by', 'reason']);
    // Control: the same case, on the staff page, has both notes.
    const lead = await signIn(app, LEAD);
    const page = await lead.get(`/cancellations/${CASE_ID}`).expect(200);
    expect(page.text).toContain(RISK_NOTE);
  });

  it('S9 API_TOKENS names the scopes of every token; a token without scopes, an unknown scope or a bad therapist reference stops start-up', () => {
    const t = 'x'.repeat(40);
    const tokens = loadConfig({ API_TOKENS }).auth.apiTokens;
    expect(tokens.map((k) => [k.name, [...k.scopes].sort(), k.therapists])).toEqual([
      ['reader', ['read'], undefined],
      ['submitter', ['submit'], undefined],
      ['team', ['read', 'submit'], ['T1042', 'T1043']],
      ['full', ['read', 'submit'], undefined],
    ]);
    expect(() => loadConfig({ API_TOKENS: `bridge:${t}` })).toThrow(
      /API_TOKENS: give each token its scopes, like name:token:submit\+read/,
    );
    expect(() => loadConfig({ API_TOKENS: `bridge:${t}:admin` })).toThrow(
      /API_TOKENS: unknown scope "admin" for bridge/,
    );
    expect(() => loadConfig({ API_TOKENS: `bridge:${t}:read:T 1` })).toThrow(/API_TOKENS: .*therapist references/);
    expect(() => loadConfig({ API_TOKENS: `bridge:${t}:read` })).not.toThrow();
  });
});
