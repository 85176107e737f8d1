/**
 * `npm run stuck`: prints every late or stuck case as a table, with a Web UI link to each, and
 * links to the late and stuck lists in the Web UI. "Late" and "stuck" use the configured policy
 * (POLICY_JSON: lateMarginMs, escalationAckWindowMs); see src/ops/visibility.ts.
 */
import type { Client } from '@temporalio/client';
import { loadConfigOrExit } from '../config';
import { CASE_WORKFLOW_PREFIX } from '../shared/ids';
import { CaseStage, EscalatedTo, NextDeadline, TherapistRef, UnackedEscalationSince } from '../shared/search-attributes';
import { formatUk } from '../shared/time';
import { connectTemporal, type TemporalClient } from '../temporal/client';
import {
  formatAge,
  lateCutoff,
  lateOrStuckQuery,
  lateQuery,
  standing,
  stuckCutoff,
  stuckQuery,
  uiListUrl,
  uiWorkflowUrl,
  type Standing,
  type Thresholds,
} from './visibility';

export interface CaseRow extends Standing {
  workflowId: string;
  caseId: string;
  stage?: string;
  therapistRef?: string;
  nextDeadline?: Date;
  escalatedTo: string[];
  unackedEscalationSince?: Date;
}

/** Lists late and stuck cases, most overdue first. */
export async function findLateAndStuck(client: Client, policy: Thresholds, now: Date): Promise<CaseRow[]> {
  const rows: CaseRow[] = [];
  for await (const wf of client.workflow.list({ query: lateOrStuckQuery(policy, now) })) {
    const sa = wf.typedSearchAttributes;
    const attrs = { nextDeadline: sa.get(NextDeadline), unackedEscalationSince: sa.get(UnackedEscalationSince) };
    rows.push({
      workflowId: wf.workflowId,
      caseId: wf.workflowId.startsWith(CASE_WORKFLOW_PREFIX) ? wf.workflowId.slice(CASE_WORKFLOW_PREFIX.length) : wf.workflowId,
      stage: sa.get(CaseStage),
      therapistRef: sa.get(TherapistRef),
      escalatedTo: sa.get(EscalatedTo) ?? [],
      ...attrs,
      ...standing(attrs, policy, now),
    });
  }
  const urgency = (r: CaseRow) => Math.max(r.overdueMs ?? 0, r.unackedForMs ?? 0);
  return rows.sort((a, b) => urgency(b) - urgency(a) || a.workflowId.localeCompare(b.workflowId));
}

export interface ReportContext {
  uiUrl: string;
  namespace: string;
  address: string;
  policy: Thresholds;
  now: Date;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // The last column (the link) is not padded, so lines carry no trailing spaces.
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const rule = widths.map((w, i) => '-'.repeat(i === widths.length - 1 ? header[i]!.length : w));
  return [line(header), line(rule), ...rows.map(line)].join('\n');
}

/** The whole report as printed: what "late" and "stuck" mean right now, the table, the links. */
export function renderReport(rows: CaseRow[], ctx: ReportContext): string {
  const { policy, now } = ctx;
  const out: string[] = [];
  out.push(`Late and stuck cases in namespace "${ctx.namespace}" (${ctx.address}) at ${formatUk(now.getTime())} UK time`);
  out.push(`  LATE  = the next deadline passed more than ${formatAge(policy.lateMarginMs)} ago (before ${formatUk(lateCutoff(policy, now).getTime())})`);
  out.push(
    `  STUCK = an escalation has waited more than ${formatAge(policy.escalationAckWindowMs)} for a lead's acknowledgement (raised before ${formatUk(stuckCutoff(policy, now).getTime())})`,
  );
  out.push('');
  if (rows.length === 0) {
    out.push('No late or stuck cases.');
  } else {
    const body = rows.map((r) => [
      r.caseId,
      r.stage ?? '?',
      r.nextDeadline ? formatUk(r.nextDeadline.getTime()) : '-',
      r.therapistRef ?? '-',
      r.escalatedTo.length > 0 ? r.escalatedTo.join(',') : '-',
      [r.late ? `LATE ${formatAge(r.overdueMs!)}` : '', r.stuck ? `STUCK ${formatAge(r.unackedForMs!)}` : ''].filter(Boolean).join(', '),
      uiWorkflowUrl(ctx.uiUrl, ctx.namespace, r.workflowId),
    ]);
    out.push(table(['CASE', 'STAGE', 'NEXT DEADLINE', 'THERAPIST', 'ESCALATED TO', 'LATE / STUCK', 'TEMPORAL UI'], body));
    const late = rows.filter((r) => r.late).length;
    const stuck = rows.filter((r) => r.stuck).length;
    out.push('');
    out.push(`${rows.length} case${rows.length === 1 ? '' : 's'}: ${late} late, ${stuck} stuck.`);
  }
  out.push('');
  out.push(`All late cases in the Web UI:  ${uiListUrl(ctx.uiUrl, ctx.namespace, lateQuery(policy, now))}`);
  out.push(`All stuck cases in the Web UI: ${uiListUrl(ctx.uiUrl, ctx.namespace, stuckQuery(policy, now))}`);
  out.push('Filters to paste into the Web UI (Workflows, the </> button at the right of the filter bar, then Search):');
  out.push(`  late:  ${lateQuery(policy, now)}`);
  out.push(`  stuck: ${stuckQuery(policy, now)}`);
  return `${out.join('\n')}\n`;
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const { address, namespace, uiUrl } = config.temporal;
  let temporal: TemporalClient;
  try {
    temporal = await connectTemporal(config);
  } catch (e) {
    throw new Error(`Could not connect to Temporal at ${address}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    const now = new Date();
    const rows = await findLateAndStuck(temporal.client, config.policy, now);
    process.stdout.write(renderReport(rows, { uiUrl, namespace, address, policy: config.policy, now }));
  } finally {
    await temporal.close();
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
