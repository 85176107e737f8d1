/**
 * S2 (the web side): a client link must not be able to flood the clinical team or grow a case
 * without bound. "Call me" and "I don't feel able to wait" reach the case once while they stand;
 * each link, and each case across all its links, gets a bounded number of actions a day. (Over
 * real SMTP, the escalation emails of five posts are counted in stack.test.ts.)
 */
import request from 'supertest';
import { createApp, type AppDeps } from '../../src/web/app';
import { CsrfTokens, linkBinding } from '../../src/web/security/csrf';
import { caseView, CASE_ID, DAY, makeDeps, OTHER_CASE_ID } from '../web/fakes';

function setup(limits?: AppDeps['limits']) {
  const d = makeDeps();
  d.cases.add(caseView());
  d.cases.add(caseView({ caseId: OTHER_CASE_ID }));
  const csrf = new CsrfTokens(d.config.auth.sessionKeys);
  const app = createApp({ ...d.deps, limits });
  /** A fresh link to `caseId` (every reminder carries one), and a poster for it. */
  const link = (caseId = CASE_ID) => {
    const token = d.links.seal(caseId, 'choose', 14 * DAY);
    return (choice: string) =>
      request(app)
        .post(`/c/${token}`)
        .type('form')
        .send({ _csrf: csrf.issue(linkBinding(token)), choice });
  };
  return { ...d, app, link };
}

const cannotWait = (cases: ReturnType<typeof makeDeps>['cases']) =>
  cases.updates.filter((u) => u.update === 'reportUnhappy');

describe('S2 client actions from a link are bounded', () => {
  it('S2 posting "I don’t feel able to wait" five times from one link reaches the case once; the later posts say it was passed on', async () => {
    const { cases, link } = setup();
    const post = link();
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await post('cannot-wait'));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(cannotWait(cases)).toHaveLength(1);
    expect(answers[4]!.text).toContain('You have told us already');
    expect(answers[4]!.text).toContain('Samaritans');
  });

  it('S2 a "call me" repeated from another link of the same case reaches the case once', async () => {
    const { cases, link } = setup();
    await link()('call').expect(200);
    await link()('call').expect(200);
    expect(cases.updates.filter((u) => u.update === 'requestCall')).toHaveLength(1);
  });

  it('S2 a refused action does not count as passed on: the client can try again', async () => {
    const { cases, link } = setup();
    const post = link();
    cases.refuseWith = 'The case is busy';
    await post('cannot-wait').expect(409);
    await post('cannot-wait').expect(200);
    expect(cannotWait(cases)).toHaveLength(1);
  });

  it('S2 an action that failed on our side (Temporal unreachable) does not count as passed on either', async () => {
    const { cases, link } = setup();
    const post = link();
    cases.act.mockRejectedValueOnce(new Error('connect ECONNREFUSED 127.0.0.1:7233'));
    await post('cannot-wait').expect(500);
    await post('cannot-wait').expect(200);
    expect(cannotWait(cases)).toHaveLength(1);
  });

  it('S2 one link gets a bounded number of actions a day; past it, a calm 429 page and nothing reaches the case', async () => {
    const { cases, link } = setup({
      clientActions: { perLink: { limit: 3, windowMs: DAY }, perCase: { limit: 100, windowMs: DAY } },
    });
    const post = link();
    const statuses = [];
    for (const choice of ['call', 'cannot-wait', 'call', 'cannot-wait', 'call'])
      statuses.push((await post(choice)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await post('call');
    expect(refused.text).toContain('0333 222 0710');
    expect(refused.text).toContain('Samaritans');
    expect(cases.updates).toHaveLength(2);
  });

  it('S2 one case gets a bounded number of actions a day across all its links; other cases are not affected', async () => {
    const { cases, link } = setup({
      clientActions: { perLink: { limit: 100, windowMs: DAY }, perCase: { limit: 4, windowMs: DAY } },
    });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await link()(i % 2 ? 'call' : 'cannot-wait')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    expect(cases.updates.filter((u) => u.caseId === CASE_ID)).toHaveLength(2);
    await link(OTHER_CASE_ID)('call').expect(200);
    expect(cases.updates.filter((u) => u.caseId === OTHER_CASE_ID)).toHaveLength(1);
  });
});
