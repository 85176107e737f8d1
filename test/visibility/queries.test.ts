/**
 * The late and stuck rules as pure functions: the exact query text a lead pastes into the Web UI,
 * the cutoffs, the classification of one case, and the report `npm run stuck` prints.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { STAGES } from '../../src/shared/case';
import { DEFAULT_POLICY } from '../../src/shared/policy';
import { renderReport, type CaseRow } from '../../src/ops/stuck';
import {
  formatAge,
  lateCutoff,
  lateOrStuckQuery,
  lateQuery,
  savedViews,
  stageQuery,
  standing,
  stuckCutoff,
  stuckQuery,
  therapistQuery,
  uiListUrl,
  uiWorkflowUrl,
} from '../../src/ops/visibility';

const NOW = Date.parse('2026-11-27T14:00:00.000Z');
const POLICY = { lateMarginMs: 3600_000, escalationAckWindowMs: 24 * 3600_000 };

describe('queries', () => {
  it('when the policy allows an hour, then "late" compares NextDeadline with an RFC 3339 instant an hour ago', () => {
    expect(lateQuery(POLICY, NOW)).toBe(
      "WorkflowType = 'cancellationCase' AND ExecutionStatus = 'Running' AND NextDeadline < '2026-11-27T13:00:00.000Z'",
    );
    expect(lateQuery(POLICY, new Date(NOW))).toBe(lateQuery(POLICY, NOW));
  });

  it('when the acknowledgement window is a day, then "stuck" compares UnackedEscalationSince with an instant a day ago', () => {
    expect(stuckQuery(POLICY, NOW)).toBe(
      "WorkflowType = 'cancellationCase' AND ExecutionStatus = 'Running' AND UnackedEscalationSince < '2026-11-26T14:00:00.000Z'",
    );
  });

  it('when both are asked, then one query ORs the two cutoffs inside the running-case filter', () => {
    expect(lateOrStuckQuery(POLICY, NOW)).toBe(
      "WorkflowType = 'cancellationCase' AND ExecutionStatus = 'Running' AND " +
        "(NextDeadline < '2026-11-27T13:00:00.000Z' OR UnackedEscalationSince < '2026-11-26T14:00:00.000Z')",
    );
  });

  it('when the default policy is used, then the cutoffs follow lateMarginMs and escalationAckWindowMs', () => {
    expect(lateCutoff(DEFAULT_POLICY, NOW).getTime()).toBe(NOW - DEFAULT_POLICY.lateMarginMs);
    expect(stuckCutoff(DEFAULT_POLICY, NOW).getTime()).toBe(NOW - DEFAULT_POLICY.escalationAckWindowMs);
  });

  it('when filtering by stage, then open stages count running cases only and finished stages count all', () => {
    expect(stageQuery('awaiting-choice')).toBe("WorkflowType = 'cancellationCase' AND ExecutionStatus = 'Running' AND CaseStage = 'awaiting-choice'");
    expect(stageQuery('closed')).toBe("WorkflowType = 'cancellationCase' AND CaseStage = 'closed'");
  });

  it('when a therapist reference carries a quote, then it cannot break out of the literal', () => {
    expect(therapistQuery("T-1'x")).toBe("WorkflowType = 'cancellationCase' AND ExecutionStatus = 'Running' AND TherapistRef = 'T-1\\'x'");
  });

  it('when listing saved views, then every stage has one and none depends on the time', () => {
    const views = savedViews();
    for (const stage of STAGES) expect(views.map((v) => v.query)).toContain(stageQuery(stage));
    expect(views.every((v) => !/\d{4}-\d{2}-\d{2}T/.test(v.query))).toBe(true);
    expect(new Set(views.map((v) => v.name)).size).toBe(views.length);
  });
});

describe('links', () => {
  it('when linking a case, then the URL is the UI page of its workflow', () => {
    expect(uiWorkflowUrl('http://localhost:8233', 'default', 'cancellation-c0123456789abcdef0123')).toBe(
      'http://localhost:8233/namespaces/default/workflows/cancellation-c0123456789abcdef0123',
    );
  });

  it('when linking a filtered list, then the query is URL-encoded', () => {
    const url = uiListUrl('http://localhost:8233', 'default', lateQuery(POLICY, NOW));
    expect(url.startsWith('http://localhost:8233/namespaces/default/workflows?query=WorkflowType%20%3D%20')).toBe(true);
    expect(url).not.toMatch(/['\s]/);
    expect(new URL(url).searchParams.get('query')).toBe(lateQuery(POLICY, NOW));
  });
});

describe('standing', () => {
  const deadline = new Date(NOW - 3600_000);
  it('when the deadline passed exactly the margin ago, then the case is not late yet; a millisecond later it is', () => {
    expect(standing({ nextDeadline: deadline }, POLICY, NOW)).toEqual({ late: false, stuck: false, overdueMs: undefined, unackedForMs: undefined });
    expect(standing({ nextDeadline: deadline }, POLICY, NOW + 1)).toMatchObject({ late: true, overdueMs: 3600_001 });
  });

  it('when an escalation waited longer than the window, then the case is stuck whatever its deadline', () => {
    const raised = new Date(NOW - 25 * 3600_000);
    expect(standing({ unackedEscalationSince: raised, nextDeadline: new Date(NOW + 3600_000) }, POLICY, NOW)).toEqual({
      late: false,
      stuck: true,
      overdueMs: undefined,
      unackedForMs: 25 * 3600_000,
    });
  });

  it('when a case has no deadline and no unacknowledged escalation, then it is neither', () => {
    expect(standing({}, POLICY, NOW)).toMatchObject({ late: false, stuck: false });
  });
});

describe('formatAge', () => {
  it.each([
    [0, '0 s'],
    [59_999, '59 s'],
    [60_000, '1 min'],
    [3600_000, '1 h'],
    [3600_000 + 5 * 60_000, '1 h 5 min'],
    [24 * 3600_000, '1 d'],
    [(3 * 24 + 4) * 3600_000 + 60_000, '3 d 4 h'],
  ])('when %i ms, then "%s"', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
});

describe('the printed report', () => {
  const ctx = { uiUrl: 'http://localhost:8233', namespace: 'default', address: 'localhost:7233', policy: POLICY, now: new Date(NOW) };
  const row = (over: Partial<CaseRow>): CaseRow => ({
    workflowId: 'cancellation-c00000000000000000001',
    caseId: 'c00000000000000000001',
    stage: 'awaiting-follow-up',
    therapistRef: 'T-1001',
    escalatedTo: [],
    late: false,
    stuck: false,
    ...over,
  });

  it('when there are late and stuck cases, then it prints an aligned table, a count and the Web UI links', () => {
    const text = renderReport(
      [
        row({ nextDeadline: new Date(NOW - 26 * 3600_000), escalatedTo: ['network'], unackedEscalationSince: new Date(NOW - 25 * 3600_000), late: true, stuck: true, overdueMs: 26 * 3600_000, unackedForMs: 25 * 3600_000 }),
        row({ workflowId: 'cancellation-c00000000000000000002', caseId: 'c00000000000000000002', stage: 'awaiting-choice', nextDeadline: new Date(NOW + 3600_000), escalatedTo: ['risk', 'support'], stuck: true, unackedForMs: 30 * 3600_000 }),
      ],
      ctx,
    );
    const lines = text.split('\n');
    const header = lines.findIndex((l) => l.startsWith('CASE'));
    expect(lines.slice(header, header + 4)).toEqual([
      'CASE                   STAGE               NEXT DEADLINE     THERAPIST  ESCALATED TO  LATE / STUCK                 TEMPORAL UI',
      '---------------------  ------------------  ----------------  ---------  ------------  ---------------------------  -----------',
      'c00000000000000000001  awaiting-follow-up  Thu 26 Nov 12:00  T-1001     network       LATE 1 d 2 h, STUCK 1 d 1 h  http://localhost:8233/namespaces/default/workflows/cancellation-c00000000000000000001',
      'c00000000000000000002  awaiting-choice     Fri 27 Nov 15:00  T-1001     risk,support  STUCK 1 d 6 h                http://localhost:8233/namespaces/default/workflows/cancellation-c00000000000000000002',
    ]);
    expect(text).toContain('2 cases: 1 late, 2 stuck.');
    expect(text).toContain('LATE  = the next deadline passed more than 1 h ago (before Fri 27 Nov 13:00)');
    expect(text).toContain("STUCK = an escalation has waited more than 1 d for a lead's acknowledgement (raised before Thu 26 Nov 14:00)");
    expect(text).toContain(`All late cases in the Web UI:  ${uiListUrl(ctx.uiUrl, 'default', lateQuery(POLICY, NOW))}`);
    expect(text).toContain(`\n  stuck: ${stuckQuery(POLICY, NOW)}\n`);
    expect(lines.every((l) => l === l.trimEnd())).toBe(true);
  });

  it('when nothing is late or stuck, then it says so and still gives the links', () => {
    const text = renderReport([], ctx);
    expect(text).toContain('No late or stuck cases.');
    expect(text).not.toContain('CASE ');
    expect(text).toContain('All stuck cases in the Web UI: ');
  });
});

describe('docs/visibility.md', () => {
  const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'visibility.md'), 'utf8');

  it('when a lead copies a saved-view filter from the docs, then it is exactly the one the code and tests use', () => {
    for (const view of savedViews()) expect(doc).toContain(`| ${view.name} | \`${view.query}\` |`);
    expect(doc).toContain(`\`${therapistQuery('T-1001')}\``);
  });

  it('when a lead copies the late or stuck filter, then only the time differs from what the code builds', () => {
    const late = lateQuery(DEFAULT_POLICY, Date.parse('2026-11-27T14:00:00Z')).replace('.000Z', 'Z');
    const stuck = stuckQuery(DEFAULT_POLICY, Date.parse('2026-11-27T14:00:00Z')).replace('.000Z', 'Z');
    expect(late).toBe("WorkflowType = 'cancellationCase' AND ExecutionStatus = 'Running' AND NextDeadline < '2026-11-27T13:00:00Z'");
    expect(doc).toContain(late);
    expect(doc).toContain(stuck);
  });
});
