/**
 * Visibility queries that find late and stuck cases, for `npm run stuck`, the tests and the
 * filters documented for clinical leads. Pure: every function takes the policy and "now", so a
 * query is reproducible and a test can say exactly which cases it must return.
 *
 * Temporal's query language has no `now()`: a Datetime attribute is compared with an RFC 3339
 * literal, so "late" and "stuck" are built from a cutoff computed here.
 */
import { STAGES, TEAMS, type Stage, type Team } from '../shared/case';
import type { Policy } from '../shared/policy';
import { CaseStage, EscalatedTo, NextDeadline, RiskConcern, TherapistRef, UnackedEscalationSince } from '../shared/search-attributes';

export const CASE_WORKFLOW_TYPE = 'cancellationCase';

/** The two policy values that define "late" and "stuck". */
export type Thresholds = Pick<Policy, 'lateMarginMs' | 'escalationAckWindowMs'>;

type Instant = Date | number;

const ms = (t: Instant) => (typeof t === 'number' ? t : t.getTime());

/** Every case of this app, finished or not. */
export const ALL_CASES = `WorkflowType = '${CASE_WORKFLOW_TYPE}'`;
/** Cases still running: the only ones that can be late or stuck. */
export const OPEN_CASES = `${ALL_CASES} AND ExecutionStatus = 'Running'`;

/** An RFC 3339 literal in UTC, as visibility compares Datetime attributes with it. */
export function rfc3339(t: Instant): string {
  return new Date(ms(t)).toISOString();
}

/** A deadline before this instant makes a case late. */
export function lateCutoff(policy: Thresholds, now: Instant): Date {
  return new Date(ms(now) - policy.lateMarginMs);
}

/** An escalation raised before this instant and still not acknowledged makes a case stuck. */
export function stuckCutoff(policy: Thresholds, now: Instant): Date {
  return new Date(ms(now) - policy.escalationAckWindowMs);
}

/** LATE: running, and its next deadline passed more than `lateMarginMs` ago. */
export function lateQuery(policy: Thresholds, now: Instant): string {
  return `${OPEN_CASES} AND ${NextDeadline.name} < '${rfc3339(lateCutoff(policy, now))}'`;
}

/** STUCK: running, with an escalation waiting for acknowledgement longer than `escalationAckWindowMs`. */
export function stuckQuery(policy: Thresholds, now: Instant): string {
  return `${OPEN_CASES} AND ${UnackedEscalationSince.name} < '${rfc3339(stuckCutoff(policy, now))}'`;
}

/** Late or stuck, in one query (what `npm run stuck` lists). */
export function lateOrStuckQuery(policy: Thresholds, now: Instant): string {
  return (
    `${OPEN_CASES} AND (${NextDeadline.name} < '${rfc3339(lateCutoff(policy, now))}'` +
    ` OR ${UnackedEscalationSince.name} < '${rfc3339(stuckCutoff(policy, now))}')`
  );
}

const CLOSED_STAGES: readonly Stage[] = ['completed', 'closed'];

/** Cases in one stage; an open stage counts running cases only (a terminated case keeps its last stage). */
export function stageQuery(stage: Stage): string {
  return `${CLOSED_STAGES.includes(stage) ? ALL_CASES : OPEN_CASES} AND ${CaseStage.name} = '${stage}'`;
}

/** Open cases of one therapist (TherapistRef is the therapist's id, never a name). */
export function therapistQuery(therapistRef: string): string {
  return `${OPEN_CASES} AND ${TherapistRef.name} = '${therapistRef.replace(/'/g, "\\'")}'`;
}

/** Open cases ever escalated to a team (a Keyword list matches when it contains the value). */
export function escalatedToQuery(team: Team): string {
  return `${OPEN_CASES} AND ${EscalatedTo.name} = '${team}'`;
}

/** Open cases with an escalation nobody has acknowledged yet, however recent. */
export const UNACKNOWLEDGED_QUERY = `${OPEN_CASES} AND ${UnackedEscalationSince.name} IS NOT NULL`;
/** Open cases with a risk concern. */
export const RISK_QUERY = `${OPEN_CASES} AND ${RiskConcern.name} = true`;

const STAGE_TITLES: Record<Stage, string> = {
  contacting: 'Telling the client',
  'awaiting-choice': "Waiting for the client's choice",
  'awaiting-callback': 'Waiting for the promised callback',
  'awaiting-phone-outcome': 'Waiting for a phone call to the client',
  'awaiting-follow-up': "Waiting for the therapist's follow-up",
  'awaiting-documentation': 'Waiting for the MPB records',
  completed: 'Completed',
  closed: 'Closed by a lead',
};

const TEAM_TITLES: Record<Team, string> = { network: 'the clinical network team', risk: 'risk duty', support: 'support', lead: 'the clinical lead' };

export interface SavedView {
  name: string;
  query: string;
}

/**
 * Filters that do not depend on the time, fit to save once as views in the Web UI. Late and
 * stuck need today's cutoff, so they are not here: see lateQuery / stuckQuery.
 */
export function savedViews(): SavedView[] {
  return [
    { name: 'Open cases', query: OPEN_CASES },
    { name: 'Escalated, not yet acknowledged', query: UNACKNOWLEDGED_QUERY },
    { name: 'Risk concern', query: RISK_QUERY },
    ...TEAMS.map((team) => ({ name: `Escalated to ${TEAM_TITLES[team]}`, query: escalatedToQuery(team) })),
    ...STAGES.map((stage) => ({ name: STAGE_TITLES[stage], query: stageQuery(stage) })),
  ];
}

export function stageTitle(stage: Stage): string {
  return STAGE_TITLES[stage];
}

/** The Web UI page of one case (the UI opens its latest run). */
export function uiWorkflowUrl(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** The Web UI's workflow list with a filter already applied. Quotes are encoded too, so terminals keep the link whole. */
export function uiListUrl(uiUrl: string, namespace: string, query: string): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(query).replace(/'/g, '%27')}`;
}

export interface Standing {
  late: boolean;
  stuck: boolean;
  /** How long ago the deadline passed (when late). */
  overdueMs?: number;
  /** How long the oldest escalation has waited for acknowledgement (when stuck). */
  unackedForMs?: number;
}

/** The same rules as lateQuery and stuckQuery, applied to one case's attributes. */
export function standing(
  attrs: { nextDeadline?: Date; unackedEscalationSince?: Date },
  policy: Thresholds,
  now: Instant,
): Standing {
  const at = ms(now);
  const late = attrs.nextDeadline !== undefined && attrs.nextDeadline.getTime() < lateCutoff(policy, at).getTime();
  const stuck = attrs.unackedEscalationSince !== undefined && attrs.unackedEscalationSince.getTime() < stuckCutoff(policy, at).getTime();
  return {
    late,
    stuck,
    overdueMs: late ? at - attrs.nextDeadline!.getTime() : undefined,
    unackedForMs: stuck ? at - attrs.unackedEscalationSince!.getTime() : undefined,
  };
}

/** "3 d 4 h", "2 h 5 min", "40 s": coarse, for people scanning a table. */
export function formatAge(durationMs: number): string {
  const s = Math.max(0, Math.floor(durationMs / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  if (m > 0) return `${m} min`;
  return `${s} s`;
}
