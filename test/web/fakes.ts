/**
 * A fake case service for route tests: records what the app asked of Temporal and answers with
 * views the test sets up. Real config, real link sealing.
 */
import type { Express } from 'express';
import request from 'supertest';
import type { ActOutcome } from '../../src/cases';
import type { CasePage, CaseRow, ListFilter, PageRequest } from '../../src/ops/case-lists';
import { aggregate, type ChartCase } from '../../src/ops/lead-charts';
import type { AppDeps, Mailbox } from '../../src/web/app';
import { loadConfig, type Config, type StaffRole } from '../../src/config';
import { LinkSealer } from '../../src/links';
import { TEST_KEYS } from '../helpers/keys';
import type { Submission } from '../../src/shared/api';
import type { CaseView, Escalation } from '../../src/shared/case';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** The JSON API's token in tests (API_TOKENS=tests:<this>:submit+read). */
export const API_TOKEN = 'test-api-token-0123456789-abcdefghijklmnop';
export const CODEC_TOKEN = 'test-codec-token-0123456789-abcdefghijklmn';

/** The test process's own keys: the development keys serve only the development sign-in on loopback. */
export function testConfig(env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    SUPPORT_PHONE: '0333 222 0710',
    ...TEST_KEYS,
    API_TOKENS: `tests:${API_TOKEN}:submit+read`,
    CODEC_TOKENS: `cli:${CODEC_TOKEN}`,
    ...env,
  });
}

export interface StaffLogin {
  role: StaffRole;
  ref: string;
  name: string;
  email?: string;
}

/** The therapist of caseView() and validSubmission(). */
export const THERAPIST: StaffLogin = { role: 'therapist', ref: 'T1042', name: 'Alex Morgan', email: 'alex.morgan@example.org' };
export const OTHER_THERAPIST: StaffLogin = { role: 'therapist', ref: 'T2077', name: 'Robin Lee', email: 'robin.lee@example.org' };
export const LEAD: StaffLogin = { role: 'clinical-lead', ref: 'LEAD7', name: 'Jo Patel', email: 'jo.patel@example.org' };
/** Risk duty, the clinical network team or support: every case, but not closing. */
export const ESCALATION: StaffLogin = { role: 'escalation-team', ref: 'SUP3', name: 'Kit Evans', email: 'kit.evans@example.org' };

/** The CSRF token in a page's forms. */
export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on the page');
  return m[1]!;
}

export interface Staff {
  agent: ReturnType<typeof request.agent>;
  csrf: string;
  get(url: string): request.Test;
  /** Posts a form as the browser would, with the page's CSRF token. */
  post(url: string, body?: Record<string, unknown>): request.Test;
}

/** Signs in through the development sign-in, as a browser would; the agent keeps the cookie. */
export async function signIn(app: Express, who: StaffLogin = THERAPIST): Promise<Staff> {
  const agent = request.agent(app);
  const form = await agent.get('/auth/sign-in').expect(200);
  await agent
    .post('/auth/sign-in')
    .type('form')
    .send({ _csrf: csrfFrom(form.text), role: who.role, ref: who.ref, name: who.name, email: who.email ?? '' })
    .expect(303);
  // The escalation team does not cancel sessions: the form refuses them, but its page still has
  // the sign-out form, whose token is the session's.
  const home = await agent.get('/cancellations/new').expect(who.role === 'escalation-team' ? 403 : 200);
  const csrf = csrfFrom(home.text);
  return {
    agent,
    csrf,
    get: (url) => agent.get(url),
    post: (url, body = {}) => agent.post(url).type('form').send({ _csrf: csrf, ...body }),
  };
}

/** An instant `ms` from now, on the minute (form fields have minutes, not seconds). */
export function fromNow(ms: number): string {
  const t = Date.now() + ms;
  return new Date(t - (t % 60_000)).toISOString();
}

export const CASE_ID = 'c0123456789abcdefghij';
export const OTHER_CASE_ID = 'c9876543210abcdefghij';

export function caseView(overrides: Partial<CaseView> = {}): CaseView {
  const start = fromNow(3 * DAY);
  return {
    caseId: CASE_ID,
    absenceId: 'a0123456789abcdefghij',
    siblingCaseIds: [],
    stage: 'awaiting-choice',
    status: "Waiting for the client's choice",
    therapistId: 'T1042',
    therapistName: 'Alex Morgan',
    clientFirstName: 'Sam',
    preferredContact: 'email',
    sessionStartsAt: start,
    offeredSlots: [fromNow(5 * DAY), fromNow(6 * DAY)],
    nextDeadline: fromNow(2 * DAY),
    clientContact: { ref: 'C-2002', email: 'sam@example.org', phone: '+447700900123' },
    withdrawnSlots: [],
    duties: [
      { id: 'ob-1', kind: 'choose', what: 'Choose one of the offered times', owner: 'client', deadline: fromNow(2 * DAY), openedAt: fromNow(-HOUR), nextChaseAt: fromNow(2 * DAY), chases: 0, clientFacing: false, dischargedBy: 'the client, or anyone who records a rebooking' },
    ],
    escalations: [],
    clientMessages: [{ key: 'client-slotOffer-2', kind: 'slotOffer', channel: 'email', status: 'delivered', at: fromNow(-HOUR) }],
    told: { at: fromNow(-HOUR), how: 'delivered' },
    timelineDropped: 0,
    timers: [fromNow(2 * DAY)],
    therapistAway: false,
    timeline: [
      { at: fromNow(-HOUR), kind: 'event', text: 'Case opened: session cancelled by the therapist' },
      { at: fromNow(-HOUR), kind: 'message', channel: 'email', outcome: 'sent', text: 'Client: cancellation with 2 slots to choose from' },
    ],
    risk: false,
    records: { attendance: { done: false }, clinicalNote: { done: false }, nextSession: { done: false } },
    recordsMode: 'attestation',
    recordsUnavailable: false,
    sending: 0,
    ...overrides,
  };
}

/** An escalation as the case view shows it: alerted, delivered, not yet acknowledged unless given. */
export function escalation(overrides: Partial<Escalation> = {}): Escalation {
  return { id: 'esc-1', team: 'network', reason: 'The client is unhappy with the cancellation', at: fromNow(-HOUR), alerts: 1, lastAlertAt: fromNow(-HOUR), delivery: 'delivered', ...overrides };
}

export interface UpdateCall {
  caseId: string;
  update: string;
  args: unknown[];
  updateId?: string;
}

export class FakeCases {
  readonly views = new Map<string, CaseView>();
  readonly submitted: Submission[] = [];
  readonly updates: UpdateCall[] = [];
  /** Set to make the next update fail as the workflow's validator would. */
  refuseWith?: string;
  /** Called after an accepted update, to change the case as the workflow would. */
  onUpdate?: (call: UpdateCall, view: CaseView) => CaseView | void;

  readonly submit = jest.fn(async (sub: Submission) => {
    this.submitted.push(sub);
    return sub.sessions.map((_, i) => ({ caseId: `c${String(i).padStart(20, '0')}` }));
  });

  readonly view = jest.fn(async (caseId: string) => this.views.get(caseId));

  /** CaseService.act: refused once if refuseWith is set, as the workflow's validator would. */
  readonly act = jest.fn(
    async (caseId: string, def: { name: string }, args: unknown[], updateId: string): Promise<ActOutcome<unknown>> => {
      const call = { caseId, update: def.name, args, updateId };
      if (this.refuseWith) {
        const reason = this.refuseWith;
        this.refuseWith = undefined;
        return { kind: 'refused', reason };
      }
      this.updates.push(call);
      const view = this.views.get(caseId);
      if (view && this.onUpdate) {
        const next = this.onUpdate(call, view);
        if (next) this.views.set(caseId, next);
      }
      return { kind: 'done', result: { status: 'ok' } };
    },
  );

  /** Cases whose client opened their link (CaseService.clientSeen). */
  readonly seen: string[] = [];
  readonly clientSeen = jest.fn(async (caseId: string) => {
    this.seen.push(caseId);
  });

  readonly reportDelivery = jest.fn(async () => true);

  /** CaseService.actOnAbsence: recorded like an update on the case, with the absence as its target. */
  readonly actOnAbsence = jest.fn(async (caseId: string, def: { name: string }, args: unknown[], updateId: string): Promise<ActOutcome<unknown>> => {
    this.updates.push({ caseId, update: def.name, args, updateId });
    return { kind: 'done', result: {} };
  });

  /**
   * CaseService.list over the views held here, newest added first, with the filter applied the
   * way the visibility query means it (the real queries are checked on a dev server in
   * test/visibility). A page token is the index to start from.
   */
  readonly list = jest.fn(async (filter: ListFilter, page: PageRequest): Promise<CasePage> => {
    const all = this.matching(filter);
    const from = page.token ? Number(page.token) : 0;
    const rows = all.slice(from, from + page.size);
    return { rows, ...(from + page.size < all.length ? { next: String(from + page.size) } : {}) };
  });

  readonly listAll = jest.fn(async (filter: ListFilter, cap: number) => {
    const all = this.matching(filter);
    return { rows: all.slice(0, cap), more: all.length > cap };
  });

  readonly count = jest.fn(async (filter: ListFilter) => this.matching(filter).length);
  /** The cases the lead's charts are drawn from (none unless a test sets them). */
  chartCases: ChartCase[] = [];
  readonly leadCharts = jest.fn(async () => aggregate(this.chartCases, Date.now()));

  private matching(f: ListFilter): CaseRow[] {
    const now = Date.now();
    return [...this.views.values()]
      .reverse()
      .map((v) => rowOf(v, now))
      .filter((r) => {
        const view = this.views.get(r.caseId)!;
        if (f.therapistRef !== undefined && r.therapistRef !== f.therapistRef) return false;
        if (f.stage && r.stage !== f.stage) return false;
        const unacked = view.escalations.some((e) => !e.acknowledgedAt);
        if (f.team && !r.escalatedTo.includes(f.team)) return false;
        switch (f.kind) {
          case 'open':
            return r.running;
          case 'finished':
            return !r.running;
          case 'late':
            return r.late;
          case 'stuck':
            return r.stuck;
          case 'risk':
            return r.running && r.risk;
          case 'escalated':
            return r.running && unacked;
          case 'attention':
            return r.running && (r.late || unacked || r.risk);
          case 'team':
            return r.running && r.escalatedTo.some((t) => t !== 'lead');
        }
      });
  }

  add(view: CaseView): this {
    this.views.set(view.caseId, view);
    return this;
  }
}

/** The search attributes a case's view would give it, as a list row. */
export function rowOf(v: CaseView, now: number): CaseRow {
  const running = v.stage !== 'completed' && v.stage !== 'closed';
  const unacked = v.escalations.filter((e) => !e.acknowledgedAt).map((e) => Date.parse(e.at));
  const deadline = running && v.nextDeadline ? Date.parse(v.nextDeadline) : undefined;
  const since = unacked.length > 0 ? Math.min(...unacked) : undefined;
  const late = deadline !== undefined && deadline < now - HOUR;
  const stuck = since !== undefined && since < now - DAY;
  const main = v.duties.find((d) => !d.metAt && d.kind !== 'acknowledge' && d.kind !== 'records') ?? v.duties.find((d) => !d.metAt);
  return {
    caseId: v.caseId,
    running,
    stage: v.stage,
    nextDeadline: running ? v.nextDeadline : undefined,
    nextStepOwner: running ? main?.owner : undefined,
    escalatedTo: [...new Set(v.escalations.map((e) => e.team))].sort(),
    unackedEscalationSince: since !== undefined ? new Date(since).toISOString() : undefined,
    risk: v.risk,
    sessionStartsAt: v.sessionStartsAt,
    therapistRef: v.therapistId,
    late: running && late,
    stuck: running && stuck,
    ...(late && running ? { overdueMs: now - deadline! } : {}),
    ...(stuck && running ? { unackedForMs: now - since! } : {}),
  };
}

export interface Deps {
  deps: AppDeps;
  cases: FakeCases;
  links: LinkSealer;
  config: Config;
}

export function makeDeps(options: { mailbox?: Mailbox; config?: Config } = {}): Deps {
  const config = options.config ?? testConfig();
  const cases = new FakeCases();
  const links = new LinkSealer(config.linkKeys);
  const deps: AppDeps = { config, cases: cases as unknown as AppDeps['cases'], links, mailbox: options.mailbox };
  return { deps, cases, links, config };
}

/** A valid API submission, sessions a few days ahead. */
export function validSubmission(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    therapist: { id: 'T1042', name: 'Alex Morgan', email: 'alex.morgan@example.org' },
    reason: 'illness',
    sessions: [
      {
        id: 'S-1',
        startsAt: fromNow(3 * DAY),
        client: { ref: 'C-77', firstName: 'Sam', preferredContact: 'email', email: 'sam@example.org' },
        rebook: { slots: [fromNow(5 * DAY), fromNow(6 * DAY)] },
      },
    ],
    ...overrides,
  };
}
