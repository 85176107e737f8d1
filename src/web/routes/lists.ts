/**
 * Every member of staff lands where their work is (GET / and GET /cancellations):
 * - a therapist: their own cases, newest first, each with what it waits for, who has the next
 *   step and by when;
 * - a clinical lead: the overview of late, stuck and risk cases and of escalations waiting, by
 *   team, with links to each case and to the Web UI with the late and stuck filters for now;
 * - the escalation team: their team's queue of open obligations, oldest deadline first, each
 *   with what to do and, where they may, "Acknowledge".
 * Lists come from search attributes a page at a time; client first names and references (the
 * only client details a list shows) come from the views of that page's cases, and each such
 * read is audited like a case page. The lead's page also shows two charts (cancellations per day,
 * time to rebook) from search attributes alone: no client detail.
 */
import { Router, type Response } from 'express';
import { z } from 'zod';
import { PAGE_TOKEN, type CaseRow, type ListFilter, type ListKind } from '../../ops/case-lists';
import type { LeadCharts } from '../../ops/lead-charts';
import { lateQuery, stuckQuery, uiListUrl, uiWorkflowUrl } from '../../ops/visibility';
import {
  STAFF_TEAMS,
  STAGES,
  TEAMS,
  type CaseView,
  type Duty,
  type Escalation,
  type Stage,
  type StaffTeam,
  type Team,
} from '../../shared/case';
import { caseWorkflowId } from '../../shared/ids';
import { ACTION_DONE } from '../case-actions';
import { isOpen, ownerLabel, STAGE_LABELS, statusSentence, teamLabel, voicemailRule } from '../case-status';
import { chartsForPage } from '../charts';
import { viewsOf } from '../case-views';
import type { WebContext } from '../context';
import { staffOf } from '../security/auth';
import { staffOnly } from '../security/guards';
import type { StaffUser } from '../security/session';

export const PAGE_SIZE = 20;
/** The most cases a team's queue orders by deadline before showing a page of them. */
const QUEUE_CAP = 500;
/** The charts change slowly: a lead paging through lists reads visibility for them once a minute at most. */
const CHARTS_FRESH_MS = 60_000;

const OPEN_STAGES: readonly Stage[] = STAGES.filter((s) => s !== 'completed' && s !== 'closed');

/** Query parameters: anything malformed is ignored, as if it were not there. */
const params = z.object({
  show: z.string().optional().catch(undefined),
  stage: z.enum(STAGES).optional().catch(undefined),
  team: z.enum(TEAMS).optional().catch(undefined),
  page: z.string().regex(PAGE_TOKEN).optional().catch(undefined),
  size: z.coerce.number().int().min(1).max(50).optional().catch(undefined),
  done: z.literal('acknowledge').optional().catch(undefined),
});
type Params = z.infer<typeof params>;

interface Tab {
  kind: ListKind;
  label: string;
}

const THERAPIST_TABS: Tab[] = [
  { kind: 'open', label: 'Open' },
  { kind: 'finished', label: 'Finished' },
];

const LEAD_TABS: Tab[] = [
  { kind: 'attention', label: 'Needs attention' },
  { kind: 'late', label: 'Late' },
  { kind: 'stuck', label: 'Stuck' },
  { kind: 'risk', label: 'Risk' },
  { kind: 'escalated', label: 'Escalations waiting' },
  { kind: 'open', label: 'All open' },
  { kind: 'finished', label: 'Finished' },
];

/** The address of a list with some parameters changed; empty ones are left out. */
function listUrl(p: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(p)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `/cancellations?${s}` : '/cancellations';
}

/** Who has the next step, in the words of the person looking. */
function nextStepLabel(owner: string | undefined, view: CaseView | undefined, user: StaffUser): string {
  if (!owner) return 'Nobody: nothing is waiting';
  if (owner === 'therapist' && user.role === 'therapist') return 'You';
  if (owner === user.team) return 'Your team';
  if (!view) return owner === 'client' ? 'The client' : capitalise(teamLabel(owner as Team | 'client' | 'therapist'));
  return capitalise(
    ownerLabel(owner as Team | 'client' | 'therapist', view) +
      (owner === 'client' ? ' (client)' : owner === 'therapist' ? ' (therapist)' : ''),
  );
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export interface ListRow {
  caseId: string;
  href: string;
  /** "Sam (C-2002)"; undefined when the case did not answer in time. */
  client?: string;
  clientFirstName?: string;
  clientRef?: string;
  sessionStartsAt?: string;
  where: string;
  nextStep: string;
  nextDeadline?: string;
  row: CaseRow;
  therapist?: string;
  webUiUrl?: string;
  escalatedTo: string[];
}

export function listRoutes(ctx: WebContext): Router {
  const router = Router();
  const { config } = ctx.deps;

  /** Names a page of rows from their cases' views; each case shown by name is an audited read. */
  const named = async (rows: CaseRow[], user: StaffUser): Promise<Map<string, CaseView | undefined>> => {
    const views = await viewsOf(
      ctx.deps.cases,
      rows.map((r) => r.caseId),
    );
    for (const [caseId, view] of views) {
      if (view) ctx.audit.read({ who: user.ref, role: user.role, caseId, via: 'page', what: 'case list' });
    }
    return views;
  };

  const toRow = (r: CaseRow, view: CaseView | undefined, user: StaffUser): ListRow => ({
    caseId: r.caseId,
    href: `/cancellations/${encodeURIComponent(r.caseId)}`,
    client: view ? `${view.clientFirstName} (${view.clientContact.ref})` : undefined,
    clientFirstName: view?.clientFirstName,
    clientRef: view?.clientContact.ref,
    sessionStartsAt: r.sessionStartsAt ?? view?.sessionStartsAt,
    where: view ? statusSentence(view) : r.stage ? STAGE_LABELS[r.stage] : 'Not known yet',
    nextStep: r.running ? nextStepLabel(r.nextStepOwner, view, user) : 'Nothing: the case is finished',
    nextDeadline: r.running ? r.nextDeadline : undefined,
    row: r,
    therapist: view ? `${view.therapistName} (${view.therapistId})` : r.therapistRef,
    webUiUrl:
      user.role === 'clinical-lead'
        ? uiWorkflowUrl(config.temporal.uiUrl, config.temporal.namespace, caseWorkflowId(r.caseId))
        : undefined,
    escalatedTo: r.escalatedTo,
  });

  const stageItems = (kind: ListKind, stage: Stage | undefined) => [
    { value: '', text: 'Any stage' },
    ...(kind === 'finished' ? (['completed', 'closed'] as Stage[]) : OPEN_STAGES).map((s) => ({
      value: s,
      text: STAGE_LABELS[s],
      selected: s === stage,
    })),
  ];

  /** A list page for a therapist or a lead: one page of attributes, named from that page's views. */
  const renderList = async (res: Response, user: StaffUser, p: Params, tabs: Tab[], base: Partial<ListFilter>) => {
    const kind = tabs.find((t) => t.kind === p.show)?.kind ?? tabs[0]!.kind;
    const stage =
      p.stage && (kind === 'finished' ? !OPEN_STAGES.includes(p.stage) : OPEN_STAGES.includes(p.stage))
        ? p.stage
        : undefined;
    const team = user.role === 'clinical-lead' && kind === 'escalated' ? p.team : undefined;
    const filter: ListFilter = { ...base, kind, ...(stage ? { stage } : {}), ...(team ? { team } : {}) };
    const size = p.size ?? PAGE_SIZE;
    let page;
    try {
      page = await ctx.deps.cases.list(filter, { size, token: p.page });
    } catch (e) {
      // A page token from an old link that the server no longer accepts: start again.
      if (p.page) {
        res.redirect(303, listUrl({ show: kind, stage, team }));
        return;
      }
      throw e;
    }
    const views = await named(page.rows, user);
    const rows = page.rows.map((r) => toRow(r, views.get(r.caseId), user));
    const common = {
      tabs: tabs.map((t) => ({ ...t, href: listUrl({ show: t.kind }), current: t.kind === kind })),
      kind,
      kindLabel: tabs.find((t) => t.kind === kind)!.label,
      stage,
      stageItems: stageItems(kind, stage),
      team,
      rows,
      nextUrl: page.next ? listUrl({ show: kind, stage, team, size: p.size, page: page.next }) : undefined,
      firstUrl: p.page ? listUrl({ show: kind, stage, team, size: p.size }) : undefined,
      now: ctx.now().toISOString(),
    };
    if (user.role === 'therapist') {
      ctx.render(res, 200, 'cases/therapist.njk', common);
      return;
    }
    const [counts, chartData] = await Promise.all([overview(), charts()]);
    ctx.render(res, 200, 'cases/lead.njk', {
      ...common,
      overview: counts,
      charts: chartData ? chartsForPage(chartData) : undefined,
      teamLabels: TEAM_TITLES,
    });
  };

  let chartCache: { at: number; data: Promise<LeadCharts | undefined> } | undefined;
  /** The charts, or undefined when visibility could not give them: the rest of the page still shows. */
  const charts = () => {
    const now = ctx.now().getTime();
    if (!chartCache || now - chartCache.at > CHARTS_FRESH_MS) {
      const data = ctx.deps.cases.leadCharts().catch((err: unknown) => {
        ctx.log.warn({ event: 'charts-failed', err }, 'the lead charts could not be read');
        // Not kept: the next page view asks again.
        chartCache = undefined;
        return undefined;
      });
      chartCache = { at: now, data };
    }
    return chartCache.data;
  };

  const TEAM_TITLES: Record<Team, string> = {
    risk: 'Risk duty',
    network: 'Clinical network team',
    support: 'Support',
    lead: 'Clinical lead',
  };

  /** The lead's counts, and the Web UI's late and stuck lists with the cutoffs for now. */
  const overview = async () => {
    const count = (f: ListFilter) => ctx.deps.cases.count(f);
    const [late, stuck, risk, escalated, ...byTeam] = await Promise.all([
      count({ kind: 'late' }),
      count({ kind: 'stuck' }),
      count({ kind: 'risk' }),
      count({ kind: 'escalated' }),
      ...TEAMS.map((team) => count({ kind: 'escalated', team })),
    ]);
    const now = ctx.now();
    const { uiUrl, namespace } = config.temporal;
    return {
      late,
      stuck,
      risk,
      escalated,
      byTeam: TEAMS.map((team, i) => ({
        team,
        label: TEAM_TITLES[team],
        count: byTeam[i]!,
        href: listUrl({ show: 'escalated', team }),
      })),
      webUi: {
        late: uiListUrl(uiUrl, namespace, lateQuery(config.policy, now)),
        stuck: uiListUrl(uiUrl, namespace, stuckQuery(config.policy, now)),
        open: uiListUrl(uiUrl, namespace, "WorkflowType = 'cancellationCase' AND ExecutionStatus = 'Running'"),
      },
    };
  };

  /**
   * The escalation team's queue: every open case escalated to their team, ordered by its next
   * deadline from attributes alone; then, for one page of those cases, the duties their team
   * owns (from each case's view), oldest deadline first.
   */
  const renderQueue = async (res: Response, user: StaffUser, p: Params) => {
    const teams: StaffTeam[] = user.team ? [user.team] : [...STAFF_TEAMS];
    const stage = p.stage && OPEN_STAGES.includes(p.stage) ? p.stage : undefined;
    const size = p.size ?? PAGE_SIZE;
    const { rows: all, more } = await ctx.deps.cases.listAll(
      { kind: 'team', ...(user.team ? { team: user.team } : {}), ...(stage ? { stage } : {}) },
      QUEUE_CAP,
    );
    const byDeadline = [...all].sort((a, b) => (a.nextDeadline ?? '~').localeCompare(b.nextDeadline ?? '~'));
    const pageNumber = Math.max(1, Number(/^\d{1,4}$/.test(p.page ?? '') ? p.page : 1));
    const candidates = byDeadline.slice((pageNumber - 1) * size, pageNumber * size);
    const views = await named(candidates, user);
    const now = ctx.now().getTime();
    const items = candidates.flatMap((r) => {
      const view = views.get(r.caseId);
      if (!view || !isOpen(view)) return [];
      return view.duties
        .filter((d) => !d.metAt && (teams as string[]).includes(d.owner))
        .map((d) =>
          queueItem(
            view,
            d,
            view.escalations.find((e) => e.id === d.escalationId),
            user,
            now,
          ),
        );
    });
    // Cases that did not answer in time stay visible, with a link to their page.
    const silent = candidates.filter((r) => !views.get(r.caseId)).map((r) => toRow(r, undefined, user));
    items.sort((a, b) => a.deadline.localeCompare(b.deadline));
    const lastPage = pageNumber * size >= byDeadline.length;
    ctx.render(res, 200, 'cases/team.njk', {
      teamName: user.team ? TEAM_TITLES[user.team] : 'Every escalation team',
      stage,
      stageItems: stageItems('team', stage),
      items,
      silent,
      casesOnPage: candidates.length,
      casesInQueue: byDeadline.length,
      more,
      nextUrl: lastPage ? undefined : listUrl({ stage, size: p.size, page: pageNumber + 1 }),
      previousUrl: pageNumber > 1 ? listUrl({ stage, size: p.size, page: pageNumber - 1 }) : undefined,
      pageNumber,
      done: p.done ? ACTION_DONE[p.done] : undefined,
    });
  };

  const queueItem = (view: CaseView, d: Duty, esc: Escalation | undefined, user: StaffUser, now: number) => ({
    caseId: view.caseId,
    href: `/cancellations/${encodeURIComponent(view.caseId)}`,
    client: `${view.clientFirstName} (${view.clientContact.ref})`,
    clientFirstName: view.clientFirstName,
    sessionStartsAt: view.sessionStartsAt,
    what: d.kind === 'acknowledge' && esc ? `Acknowledge: ${esc.reason}` : d.what,
    howTo:
      d.kind === 'acknowledge' ? 'Open the case, make sure someone acts on it, then acknowledge it here.' : undefined,
    voicemail: voicemailRule(d, view),
    dischargedBy: d.dischargedBy,
    deadline: d.deadline,
    overdue: Date.parse(d.deadline) < now,
    attempts: d.attempts,
    escalation: esc ? { ...esc, teamLabel: capitalise(teamLabel(esc.team)) } : undefined,
    // Only risk duty (or a lead) acknowledges a risk alert; the workflow checks it again.
    acknowledge:
      esc && !esc.acknowledgedAt && (esc.team !== 'risk' || user.team === 'risk')
        ? {
            escalationId: esc.id,
            updateId: ctx.newUpdateId(),
            label: `Acknowledge${view.clientFirstName ? ` for ${view.clientFirstName}` : ''}`,
          }
        : undefined,
  });

  const home = async (res: Response, query: unknown) => {
    const user = staffOf(res);
    const p = params.parse(query);
    switch (user.role) {
      case 'therapist':
        return renderList(res, user, p, THERAPIST_TABS, { therapistRef: user.ref });
      case 'clinical-lead':
        return renderList(res, user, p, LEAD_TABS, {});
      case 'escalation-team':
        return renderQueue(res, user, p);
    }
  };

  router.get('/', (_req, res) => res.redirect(302, '/cancellations'));
  // POST /cancellations (sending the form) and the 405 for other methods are in form.ts.
  router.get('/cancellations', ...staffOnly(ctx), async (req, res) => {
    await home(res, req.query);
  });
  return router;
}
