/**
 * Use cases behind the web app and the API: submit a cancellation (one workflow per session),
 * read a case, act on it. Routes stay thin; this is where Temporal is called.
 */
import { createHmac } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Submission } from './shared/api';
import type { CaseInput, CaseView, RecordsMode } from './shared/case';
import { caseWorkflowId, isCaseId } from './shared/ids';
import { viewQuery } from './shared/messages';
import type { Policy } from './shared/policy';
import { CaseStage, DocsComplete, NextDeadline, RiskConcern, SessionStart, SubmissionDigest, TherapistRef } from './shared/search-attributes';
import { formatUk } from './shared/time';
import type { cancellationCase } from '../workflows';

export interface CaseServiceDeps {
  client: Client;
  taskQueue: string;
  policy: Policy;
  recordsMode: RecordsMode;
  /** Keys the derivation of case ids, so ids are stable per session yet unguessable. */
  idKey: Buffer;
  now?: () => Date;
}

export interface SubmittedCase {
  caseId: string;
  /**
   * True when this session had been submitted before with other details: the earlier case runs
   * on unchanged (its client may already have been told), so corrections go through its page.
   */
  changesIgnored?: boolean;
}

export class CaseService {
  constructor(private readonly deps: CaseServiceDeps) {}

  /**
   * Starts one case per session. A case id is derived from the therapist and the session, so
   * a repeated submission (double click, client retry) finds the existing workflow instead of
   * starting a second one.
   */
  async submit(sub: Submission): Promise<SubmittedCase[]> {
    const now = (this.deps.now ?? (() => new Date()))();
    const ids = sub.sessions.map((s) => this.derive('case', sub.therapist.id, s.id));
    const absenceId = this.derive('absence', sub.therapist.id, ...[...sub.sessions.map((s) => s.id)].sort());
    // Started side by side: an integration sending a batch of sessions waits for one start, not for each in turn.
    const results: Array<Promise<SubmittedCase>> = [];
    for (const [i, session] of sub.sessions.entries()) {
      const caseId = ids[i]!;
      const input: CaseInput = {
        caseId,
        absenceId,
        siblingCaseIds: ids.filter((id) => id !== caseId),
        submittedAt: now.toISOString(),
        therapist: sub.therapist,
        reason: sub.reason,
        expectedReturn: sub.expectedReturn,
        session: { id: session.id, startsAt: new Date(session.startsAt).toISOString() },
        client: session.client,
        rebook: 'slots' in session.rebook ? { slots: session.rebook.slots.map((s) => new Date(s).toISOString()) } : { callbackBy: new Date(session.rebook.callbackBy).toISOString() },
        risk: session.risk,
        policy: this.deps.policy,
        recordsMode: this.deps.recordsMode,
      };
      results.push(this.start(input).then((changesIgnored) => (changesIgnored ? { caseId, changesIgnored } : { caseId })));
    }
    return Promise.all(results);
  }

  /** Starts the case, or finds the one already there; says whether that one had other details. */
  private async start(input: CaseInput): Promise<boolean> {
    const digest = this.digest(input);
    try {
      await this.deps.client.workflow.start<typeof cancellationCase>('cancellationCase', {
        taskQueue: this.deps.taskQueue,
        workflowId: caseWorkflowId(input.caseId),
        args: [input],
        // A case already there for this session, running or finished, refuses the start: the
        // refusal is how the SDK reports it (a start it accepts says nothing more), and only then
        // is the earlier case described. A retried request is not refused: it carries the same
        // request id, which the server recognises.
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [
          { key: CaseStage, value: 'contacting' },
          { key: SubmissionDigest, value: digest },
          // Set before any worker runs, so a case nobody picks up still turns late.
          { key: NextDeadline, value: new Date(Date.parse(input.submittedAt) + input.policy.contactWithinMs) },
          { key: TherapistRef, value: input.therapist.id },
          { key: RiskConcern, value: input.risk?.concern === true },
          { key: DocsComplete, value: false },
          { key: SessionStart, value: new Date(input.session.startsAt) },
        ],
        // Shown in the Web UI's list and detail views: no client name or contact details.
        staticSummary: `Cancelled session ${formatUk(input.session.startsAt)}, therapist ${input.therapist.id}`,
        staticDetails: [
          `Session: ${formatUk(input.session.startsAt)}`,
          `Therapist: ${input.therapist.id}`,
          `Contact by: ${input.client.preferredContact}`,
          'slots' in input.rebook ? `Slots offered: ${input.rebook.slots.length}` : `Callback by: ${formatUk(input.rebook.callbackBy)}`,
          `Case page: /cancellations/${input.caseId}`,
          // One paragraph: the Web UI renders details as markdown in a box about five lines high,
          // and would run separate lines together anyway.
        ].join(' · '),
      });
      return false;
    } catch (e) {
      // The same session submitted again (double click, retry, correction): still one case.
      if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    }
    const earlier = await this.deps.client.workflow.getHandle(caseWorkflowId(input.caseId)).describe();
    return earlier.typedSearchAttributes.get(SubmissionDigest) !== digest;
  }

  /** A keyed digest of what the therapist submitted for the session (not when, or the policy). */
  private digest(input: CaseInput): string {
    const { therapist, reason, expectedReturn, session, client, rebook, risk } = input;
    return createHmac('sha256', this.deps.idKey)
      .update(JSON.stringify({ therapist, reason, expectedReturn, session, client, rebook, risk }))
      .digest('base64url');
  }

  /** The case's current view, or undefined for an unknown id. */
  async view(caseId: string): Promise<CaseView | undefined> {
    if (!isCaseId(caseId)) return undefined;
    try {
      return await this.deps.client.workflow.getHandle(caseWorkflowId(caseId)).query(viewQuery);
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return undefined;
      throw e;
    }
  }

  handle(caseId: string) {
    return this.deps.client.workflow.getHandle(caseWorkflowId(caseId));
  }

  private derive(kind: 'case' | 'absence', ...parts: string[]): string {
    const digest = createHmac('sha256', this.deps.idKey).update([kind, ...parts].join('\u0000')).digest('hex');
    return `${kind === 'case' ? 'c' : 'a'}${digest.slice(0, 20)}`;
  }
}
