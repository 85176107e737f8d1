/**
 * Issue 15, item 2, at the HTTP level over a fake case service: each role's home page, what it
 * asks the case service for, what it shows and what it leaves out. The visibility queries behind
 * the lists run on a real dev server in test/visibility/home-pages.test.ts.
 */
import request from 'supertest';
import { createApp } from '../../src/web/app';
import { createAudit, type AuditEntry } from '../../src/audit';
import { listQuery } from '../../src/ops/case-lists';
import { DEFAULT_POLICY } from '../../src/shared/policy';
import type { CaseView } from '../../src/shared/case';
import {
  caseView,
  escalation,
  DAY,
  ESCALATION,
  fromNow,
  HOUR,
  LEAD,
  makeDeps,
  signIn,
  THERAPIST,
  type StaffLogin,
} from './fakes';

const RISK_DUTY: StaffLogin = { ...ESCALATION, ref: 'RISK2', name: 'Ash Khan' };

async function setup(views: Partial<CaseView>[], who: StaffLogin, team?: 'risk' | 'network' | 'support') {
  const d = makeDeps();
  views.forEach((v, i) => d.cases.add(caseView({ caseId: `c${String(i + 1).padStart(20, '0')}`, ...v })));
  const audit: AuditEntry[] = [];
  const app = createApp({ ...d.deps, audit: createAudit({ write: (e) => audit.push(e) }) });
  const agent = request.agent(app);
  const staff = team ? await signInWithTeam(agent, who, team) : await signIn(app, who);
  return { ...d, app, staff, audit };
}

/** The development sign-in with a team chosen, as risk duty or support would. */
async function signInWithTeam(agent: ReturnType<typeof request.agent>, who: StaffLogin, team: string) {
  const form = await agent.get('/auth/sign-in').expect(200);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
  await agent
    .post('/auth/sign-in')
    .type('form')
    .send({ _csrf: csrf, role: who.role, team, ref: who.ref, name: who.name, email: '' })
    .expect(303);
  const home = await agent.get('/cancellations').expect(200);
  const token = /name="_csrf" value="([^"]+)"/.exec(home.text)![1]!;
  return {
    agent,
    csrf: token,
    get: (url: string) => agent.get(url),
    post: (url: string, body: Record<string, unknown> = {}) =>
      agent
        .post(url)
        .type('form')
        .send({ _csrf: token, ...body }),
  };
}

describe('home pages by role (issue 15, item 2)', () => {
  it('issue 15 (U2): when a signed-in member of staff opens /, then they land on /cancellations, and /cancellations answers a GET', async () => {
    const { staff } = await setup([{}], THERAPIST);
    const root = await staff.get('/').expect(302);
    expect(root.headers.location).toBe('/cancellations');
    await staff.get('/cancellations').expect(200);
    const put = await staff.agent.put('/cancellations').expect(405);
    expect(put.headers.allow).toBe('GET, HEAD, POST');
  });

  it('issue 15 (U2): when a therapist opens their home page, then it lists their open cases only, with what each waits for and the next step, and no contact details', async () => {
    const { staff, cases, audit } = await setup(
      [{ therapistId: 'T1042' }, { therapistId: 'T2077', clientFirstName: 'Robin' }],
      THERAPIST,
    );
    const res = await staff.get('/cancellations').expect(200);
    expect(cases.list).toHaveBeenCalledWith({ kind: 'open', therapistRef: 'T1042' }, { size: 20, token: undefined });
    expect(res.text).toContain('<h1>Your cases</h1>');
    expect(res.text).toContain('Waiting for Sam to choose a slot until');
    expect(res.text).toContain('Sam (client)');
    expect(res.text).not.toContain('Robin');
    for (const detail of ['sam@example.org', '+447700900123', '7700900123']) expect(res.text).not.toContain(detail);
    // Naming a client on a list is a read of their case, recorded like a case page.
    expect(audit.map((e) => [e.who, e.caseId, e.what])).toEqual([['T1042', 'c00000000000000000001', 'case list']]);
  });

  it('issue 15 (U2): when a therapist filters by stage or asks for finished cases, then the filter reaches the list, and a malformed filter is ignored', async () => {
    const { staff, cases } = await setup([{}], THERAPIST);
    await staff.get('/cancellations?show=finished&stage=closed').expect(200);
    expect(cases.list).toHaveBeenLastCalledWith(
      { kind: 'finished', therapistRef: 'T1042', stage: 'closed' },
      { size: 20, token: undefined },
    );
    await staff.get('/cancellations?show=late&stage=nope&page=%27%20OR%201%3D1').expect(200);
    expect(cases.list).toHaveBeenLastCalledWith(
      { kind: 'open', therapistRef: 'T1042' },
      { size: 20, token: undefined },
    );
  });

  it('issue 15 (U3): when a lead opens their home page, then the overview counts late, stuck and risk cases and escalations by team, with Web UI links for now', async () => {
    const { staff } = await setup(
      [
        { nextDeadline: fromNow(-3 * HOUR), escalations: [escalation({ at: fromNow(-2 * DAY) })] },
        { risk: true, escalations: [escalation({ team: 'risk', reason: 'A risk concern has been raised' })] },
        {},
      ],
      LEAD,
    );
    const res = await staff.get('/cancellations').expect(200);
    expect(res.text).toContain('<h1>Overview of cases</h1>');
    expect(res.text).toMatch(/<span class="app-count__n">1<\/span> late/);
    expect(res.text).toMatch(/<span class="app-count__n">1<\/span> stuck/);
    expect(res.text).toMatch(/<span class="app-count__n">1<\/span> with a risk concern/);
    expect(res.text).toMatch(/<span class="app-count__n">2<\/span> with an escalation waiting/);
    expect(res.text).toContain('Risk duty: 1 case');
    expect(res.text).toContain('Clinical network team: 1 case');
    expect(res.text).toMatch(
      /href="http:\/\/localhost:8233\/namespaces\/default\/workflows\?query=[^"]*NextDeadline%20%3C%20%27\d{4}-/,
    );
    // The list below the counts: the cases that need attention, with their case pages.
    expect(res.text).toContain('href="/cancellations/c00000000000000000001"');
    expect(res.text).toContain('href="/cancellations/c00000000000000000002"');
    expect(res.text).not.toContain('href="/cancellations/c00000000000000000003"');
  });

  it('issue 15 (U4): when risk duty opens their home page, then their queue lists the duties their team owns, oldest deadline first, and offers Acknowledge', async () => {
    const { staff } = await setup(
      [
        {
          clientFirstName: 'Sam',
          risk: true,
          escalations: [
            escalation({ id: 'esc-1', team: 'risk', reason: 'A risk concern has been raised by the therapist' }),
          ],
          duties: [
            {
              id: 'ob-2',
              kind: 'acknowledge',
              what: 'Acknowledge the escalation',
              owner: 'risk',
              deadline: fromNow(2 * HOUR),
              openedAt: fromNow(-HOUR),
              chases: 0,
              clientFacing: false,
              dischargedBy: 'risk duty or a clinical lead',
              escalationId: 'esc-1',
            },
          ],
        },
        {
          clientFirstName: 'Priya',
          escalations: [escalation({ id: 'esc-1', team: 'risk', reason: 'Another concern' })],
          duties: [
            {
              id: 'ob-3',
              kind: 'acknowledge',
              what: 'Acknowledge the escalation',
              owner: 'risk',
              deadline: fromNow(HOUR),
              openedAt: fromNow(-HOUR),
              chases: 0,
              clientFacing: false,
              dischargedBy: 'risk duty or a clinical lead',
              escalationId: 'esc-1',
            },
          ],
        },
        { clientFirstName: 'Noor', escalations: [escalation({ team: 'network' })] },
      ],
      RISK_DUTY,
      'risk',
    );
    const res = await staff.get('/cancellations').expect(200);
    expect(res.text).toContain("Your team's queue");
    const priya = res.text.indexOf('Priya (C-2002)');
    const sam = res.text.indexOf('Sam (C-2002)');
    expect(priya).toBeGreaterThan(0);
    expect(sam).toBeGreaterThan(priya);
    expect(res.text).not.toContain('Noor');
    expect(res.text).toContain('Acknowledge: A risk concern has been raised by the therapist');
    expect([...res.text.matchAll(/action="\/cancellations\/(c\d+)\/actions\/acknowledge"/g)].map((m) => m[1])).toEqual([
      'c00000000000000000002',
      'c00000000000000000001',
    ]);
  });

  it('issue 15 (U4): when support opens their queue, then a risk alert there has no Acknowledge button (only risk duty or a lead may), and an acknowledgement from the queue returns to it', async () => {
    const { staff, cases } = await setup(
      [
        {
          escalations: [
            escalation({ id: 'esc-1', team: 'risk' }),
            escalation({ id: 'esc-2', team: 'support', reason: 'Please phone the client' }),
          ],
          duties: [
            {
              id: 'ob-2',
              kind: 'acknowledge',
              what: 'Acknowledge',
              owner: 'risk',
              deadline: fromNow(HOUR),
              openedAt: fromNow(-HOUR),
              chases: 0,
              clientFacing: false,
              dischargedBy: 'risk duty or a clinical lead',
              escalationId: 'esc-1',
            },
            {
              id: 'ob-3',
              kind: 'phone',
              what: 'Phone the client now',
              owner: 'support',
              deadline: fromNow(HOUR),
              openedAt: fromNow(-HOUR),
              chases: 0,
              clientFacing: true,
              dischargedBy: 'whoever records the outcome of the call',
              escalationId: 'esc-2',
            },
          ],
        },
      ],
      { ...ESCALATION },
      'support',
    );
    const res = await staff.get('/cancellations').expect(200);
    expect(res.text).toContain('Phone the client now');
    expect(res.text).toContain('Do not leave a voicemail: the client has not agreed to one.');
    expect([...res.text.matchAll(/name="escalation" value="([^"]+)"/g)].map((m) => m[1])).toEqual(['esc-2']);
    const updateId = /name="updateId" value="([^"]+)"/.exec(res.text)![1];
    const ack = await staff
      .post('/cancellations/c00000000000000000001/actions/acknowledge', {
        escalation: 'esc-2',
        updateId,
        return: 'list',
      })
      .expect(303);
    expect(ack.headers.location).toBe('/cancellations?done=acknowledge');
    expect(cases.updates.at(-1)).toMatchObject({
      update: 'acknowledgeEscalation',
      args: [expect.objectContaining({ escalationId: 'esc-2', team: 'support' })],
    });
    const back = await staff.get(ack.headers.location!).expect(200);
    expect(back.text).toContain('Escalation acknowledged.');
  });

  it('issue 15 (U2): when a list has more than a page, then a next-page link carries the page token, and the first page is one link away', async () => {
    const { staff } = await setup([{}, {}, {}], LEAD);
    const first = await staff.get('/cancellations?show=open&size=2').expect(200);
    const next = /href="([^"]*page=2[^"]*)" rel="next"/.exec(first.text.replace(/&amp;/g, '&'))![1]!;
    const second = await staff.get(next).expect(200);
    expect(second.text).toContain('Back to the first page');
    expect(second.text).toContain('c00000000000000000001');
    expect(second.text).not.toContain('rel="next"');
  });
});

describe('the list queries (issue 15, item 2)', () => {
  const NOW = Date.parse('2026-11-27T14:00:00.000Z');
  it('issue 15 (U2): each list is one visibility query: a therapist’s own cases, a stage, a team; quotes cannot break out', () => {
    expect(listQuery({ kind: 'open', therapistRef: 'T1042', stage: 'awaiting-choice' }, DEFAULT_POLICY, NOW)).toBe(
      "WorkflowType = 'cancellationCase' AND ExecutionStatus = 'Running' AND TherapistRef = 'T1042' AND CaseStage = 'awaiting-choice'",
    );
    expect(listQuery({ kind: 'finished' }, DEFAULT_POLICY, NOW)).toBe(
      "WorkflowType = 'cancellationCase' AND ExecutionStatus != 'Running'",
    );
    expect(listQuery({ kind: 'attention' }, DEFAULT_POLICY, NOW)).toBe(
      "WorkflowType = 'cancellationCase' AND ExecutionStatus = 'Running' AND (NextDeadline < '2026-11-27T13:00:00.000Z' OR UnackedEscalationSince IS NOT NULL OR RiskConcern = true)",
    );
    expect(listQuery({ kind: 'team', team: 'risk' }, DEFAULT_POLICY, NOW)).toBe(
      "WorkflowType = 'cancellationCase' AND ExecutionStatus = 'Running' AND (EscalatedTo = 'risk')",
    );
    expect(listQuery({ kind: 'team' }, DEFAULT_POLICY, NOW)).toContain(
      "(EscalatedTo = 'network' OR EscalatedTo = 'risk' OR EscalatedTo = 'support')",
    );
    expect(listQuery({ kind: 'escalated', team: 'lead' }, DEFAULT_POLICY, NOW)).toBe(
      "WorkflowType = 'cancellationCase' AND ExecutionStatus = 'Running' AND UnackedEscalationSince IS NOT NULL AND EscalatedTo = 'lead'",
    );
    expect(listQuery({ kind: 'open', therapistRef: "T'1\\" }, DEFAULT_POLICY, NOW)).toContain(
      "TherapistRef = 'T\\'1\\\\'",
    );
  });
});
