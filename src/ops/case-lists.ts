/**
 * The case lists behind the staff home pages: which cases each list holds (a visibility query,
 * pure and tested like the late and stuck ones), and one page of them with the search
 * attributes that say where each stands. Attributes carry no personal data; a page that shows
 * client first names asks the cases' views for that one page only.
 */
import type { Client } from '@temporalio/client';
// The SDK decodes typed attributes this way inside its own list(); it is not re-exported.
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { temporal } from '@temporalio/proto';
import { STAFF_TEAMS, type Stage, type Team } from '../shared/case';
import { CASE_WORKFLOW_PREFIX } from '../shared/ids';
import {
  CaseStage,
  EscalatedTo,
  NextDeadline,
  NextStepOwner,
  RiskConcern,
  SessionStart,
  TherapistRef,
  UnackedEscalationSince,
} from '../shared/search-attributes';
import {
  ALL_CASES,
  OPEN_CASES,
  lateCutoff,
  rfc3339,
  standing,
  stuckCutoff,
  type Standing,
  type Thresholds,
} from './visibility';

/**
 * open / finished: running or not. late, stuck: as `npm run stuck` means them. risk: open with a
 * risk concern. escalated: open with an escalation nobody has acknowledged. attention: any of
 * those. team: open and escalated to a team (its queue's candidates).
 */
export const LIST_KINDS = ['open', 'finished', 'attention', 'late', 'stuck', 'risk', 'escalated', 'team'] as const;
export type ListKind = (typeof LIST_KINDS)[number];

export interface ListFilter {
  kind: ListKind;
  /** A therapist's own cases only. */
  therapistRef?: string;
  /**
   * For `team`: whose queue (every escalation team when absent). For any other list: only cases
   * escalated to this team (the lead included).
   */
  team?: Team;
  stage?: Stage;
}

const literal = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The visibility query of a list, for the policy's late and stuck thresholds at `now`. */
export function listQuery(f: ListFilter, policy: Thresholds, now: Date | number): string {
  const late = `${NextDeadline.name} < '${rfc3339(lateCutoff(policy, now))}'`;
  const stuck = `${UnackedEscalationSince.name} < '${rfc3339(stuckCutoff(policy, now))}'`;
  const unacked = `${UnackedEscalationSince.name} IS NOT NULL`;
  const risk = `${RiskConcern.name} = true`;
  let q: string;
  switch (f.kind) {
    case 'open':
      q = OPEN_CASES;
      break;
    case 'finished':
      q = `${ALL_CASES} AND ExecutionStatus != 'Running'`;
      break;
    case 'attention':
      q = `${OPEN_CASES} AND (${late} OR ${unacked} OR ${risk})`;
      break;
    case 'late':
      q = `${OPEN_CASES} AND ${late}`;
      break;
    case 'stuck':
      q = `${OPEN_CASES} AND ${stuck}`;
      break;
    case 'risk':
      q = `${OPEN_CASES} AND ${risk}`;
      break;
    case 'escalated':
      q = `${OPEN_CASES} AND ${unacked}`;
      break;
    case 'team': {
      const teams: readonly Team[] = f.team ? [f.team] : STAFF_TEAMS;
      q = `${OPEN_CASES} AND (${teams.map((t) => `${EscalatedTo.name} = ${literal(t)}`).join(' OR ')})`;
      break;
    }
  }
  if (f.team && f.kind !== 'team') q += ` AND ${EscalatedTo.name} = ${literal(f.team)}`;
  if (f.therapistRef !== undefined) q += ` AND ${TherapistRef.name} = ${literal(f.therapistRef)}`;
  if (f.stage) q += ` AND ${CaseStage.name} = ${literal(f.stage)}`;
  return q;
}

/** One case as a list shows it, from its search attributes alone (no personal data). */
export interface CaseRow extends Standing {
  caseId: string;
  running: boolean;
  startedAt?: string;
  closedAt?: string;
  stage?: Stage;
  nextDeadline?: string;
  nextStepOwner?: string;
  escalatedTo: string[];
  unackedEscalationSince?: string;
  risk: boolean;
  sessionStartsAt?: string;
  therapistRef?: string;
}

export interface CasePage {
  rows: CaseRow[];
  /** Opaque, for the next page (base64url); absent on the last page. */
  next?: string;
}

type Timestamp = { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined;

function isoOf(t: Timestamp): string | undefined {
  if (!t || t.seconds === undefined || t.seconds === null) return undefined;
  return new Date(Number(t.seconds.toString()) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}

const Status = temporal.api.enums.v1.WorkflowExecutionStatus;

/** A page token as it travels in a URL: base64url, bounded. */
export const PAGE_TOKEN = /^[A-Za-z0-9_-]{1,2000}$/;

export interface PageRequest {
  size: number;
  /** From a previous page's `next`. */
  token?: string;
}

/**
 * One page of a list, in visibility's own order (running cases newest first, then finished ones
 * by when they finished). Throws the SDK's error for a page token the server no longer accepts.
 */
export async function listPage(
  client: Client,
  query: string,
  page: PageRequest,
  policy: Thresholds,
  now: Date,
): Promise<CasePage> {
  const res = await client.workflowService.listWorkflowExecutions({
    namespace: client.options.namespace,
    query,
    pageSize: page.size,
    nextPageToken: page.token ? Buffer.from(page.token, 'base64url') : undefined,
  });
  const rows = res.executions.map((raw): CaseRow => {
    const sa = decodeTypedSearchAttributes(raw.searchAttributes?.indexedFields);
    const workflowId = raw.execution?.workflowId ?? '';
    const deadline = sa.get(NextDeadline);
    const unacked = sa.get(UnackedEscalationSince);
    const running = raw.status === Status.WORKFLOW_EXECUTION_STATUS_RUNNING;
    const attrs = { nextDeadline: deadline, unackedEscalationSince: unacked };
    return {
      caseId: workflowId.startsWith(CASE_WORKFLOW_PREFIX) ? workflowId.slice(CASE_WORKFLOW_PREFIX.length) : workflowId,
      running,
      startedAt: isoOf(raw.startTime),
      closedAt: isoOf(raw.closeTime),
      stage: sa.get(CaseStage) as Stage | undefined,
      nextDeadline: deadline?.toISOString(),
      nextStepOwner: sa.get(NextStepOwner) || undefined,
      escalatedTo: sa.get(EscalatedTo) ?? [],
      unackedEscalationSince: unacked?.toISOString(),
      risk: sa.get(RiskConcern) === true,
      sessionStartsAt: sa.get(SessionStart)?.toISOString(),
      therapistRef: sa.get(TherapistRef),
      // A finished case is never late or stuck, whatever attributes it kept.
      ...(running ? standing(attrs, policy, now) : { late: false, stuck: false }),
    };
  });
  const token =
    res.nextPageToken && res.nextPageToken.length > 0
      ? Buffer.from(res.nextPageToken).toString('base64url')
      : undefined;
  return { rows, ...(token ? { next: token } : {}) };
}

/** How many cases a list holds (visibility's count: cheap, no page fetched). */
export async function countCases(client: Client, query: string): Promise<number> {
  return (await client.workflow.count(query)).count;
}

/**
 * Every case of a list, up to `cap`, from attributes alone: for the escalation team's queue,
 * which orders candidates by deadline before asking any case for its details.
 */
export async function listAll(
  client: Client,
  query: string,
  cap: number,
  policy: Thresholds,
  now: Date,
): Promise<{ rows: CaseRow[]; more: boolean }> {
  const rows: CaseRow[] = [];
  let token: string | undefined;
  do {
    const page = await listPage(client, query, { size: Math.min(100, cap - rows.length), token }, policy, now);
    rows.push(...page.rows);
    token = page.next;
  } while (token && rows.length < cap);
  return { rows: rows.slice(0, cap), more: token !== undefined };
}
