/**
 * Use cases behind the web app and the API: submit a cancellation (one workflow per session),
 * read a case, act on it. Routes stay thin; this is where Temporal is called.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type UpdateDefinition } from '@temporalio/common';
import type { DeliveryReport } from './shared/activities';
import type { Submission } from './shared/api';
import type { CaseInput, CaseView, RecordsMode } from './shared/case';
import { caseWorkflowId, isCaseId } from './shared/ids';
import { clientSeenSignal, deliveryReportSignal, raiseRiskUpdate, viewQuery } from './shared/messages';
import {
  absenceViewQuery,
  absenceWorkflowId,
  claimSlotUpdate,
  joinAbsenceSignal,
  releaseSlotSignal,
  type AbsenceInput,
  type AbsenceJoin,
  type AbsenceView,
} from './shared/absence';
import type { Policy } from './shared/policy';
import { AbsenceId, AbsenceReturn, CancelledAtUnix, CaseStage, DocsComplete, NextDeadline, OpenCases, RiskConcern, SessionStart, SubmissionDigest, TherapistRef } from './shared/search-attributes';
import { formatUk } from './shared/time';
import {
  countCases,
  listAll,
  listPage,
  listQuery,
  type CasePage,
  type CaseRow,
  type ListFilter,
  type PageRequest,
} from './ops/case-lists';
import { aggregate, chartsQuery, readChartCases, type LeadCharts } from './ops/lead-charts';
import type { cancellationCase, therapistAbsence } from '../workflows';

export interface CaseServiceDeps {
  client: Client;
  taskQueue: string;
  policy: Policy;
  recordsMode: RecordsMode;
  /**
   * CASE_ID_KEY: keys the derivation of case ids (stable per session yet unguessable) and of
   * submission digests. Never rotated, and never a link, session or payload key, so rotating
   * those leaves every id and digest as it was.
   */
  caseIdKey: Buffer;
  now?: () => Date;
  /** Told of each session submitted: a case started, or a duplicate that found its case (metrics). */
  onSubmitted?: (outcome: 'started' | 'duplicate') => void;
}

/**
 * What became of an action on a case: done (with the update's answer), refused by the workflow
 * (its validator or handler said no, in its own words), or gone (no such case, or it finished).
 */
export type ActOutcome<R> = { kind: 'done'; result: R } | { kind: 'refused'; reason: string } | { kind: 'gone' };

export interface SubmittedCase {
  caseId: string;
  /**
   * True when this session had been submitted before with other details: the earlier case runs
   * on unchanged (its client may already have been told), so corrections go through its page.
   */
  changesIgnored?: boolean;
  /**
   * True when the earlier case had no risk concern and this submission records one: the concern is
   * raised on the earlier case (risk duty alerted), since a risk must never be dropped (D6).
   */
  riskRaised?: boolean;
}

/** One secret, two uses: each gets a key of its own, so neither output says anything about the other. */
const subKey = (key: Buffer, use: string) =>
  Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `shortnotice ${use} v1`, 32));

export class CaseService {
  private readonly idKey: Buffer;
  private readonly digestKey: Buffer;

  constructor(private readonly deps: CaseServiceDeps) {
    if (deps.caseIdKey.length !== 32) throw new Error('CaseService needs the 32-byte CASE_ID_KEY');
    this.idKey = subKey(deps.caseIdKey, 'case ids');
    this.digestKey = subKey(deps.caseIdKey, 'submission digests');
  }

  /**
   * Starts one case per session. A case id is derived from the therapist and the session, so
   * a repeated submission (double click, client retry) finds the existing workflow instead of
   * starting a second one.
   */
  async submit(sub: Submission): Promise<SubmittedCase[]> {
    const now = (this.deps.now ?? (() => new Date()))();
    const ids = sub.sessions.map((s) => this.derive('case', sub.therapist.id, s.id));
    // One absence per therapist at a time: every submission of theirs joins it (issue 11).
    const absenceId = this.derive('absence', sub.therapist.id);
    // Started side by side: an integration sending a batch of sessions waits for one start, not for each in turn.
    const results: Array<Promise<SubmittedCase>> = [];
    for (const [i, session] of sub.sessions.entries()) {
      const caseId = ids[i]!;
      const input: CaseInput = {
        caseId,
        absenceId,
        absenceWorkflowId: absenceWorkflowId(absenceId),
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
      results.push(
        this.joinAbsence(input, now)
          .then(() => this.start(input))
          .then(({ changesIgnored, riskRaised }) => ({ caseId, ...(changesIgnored ? { changesIgnored } : {}), ...(riskRaised ? { riskRaised } : {}) })),
      );
    }
    return Promise.all(results);
  }

  /**
   * Joins the case to its therapist's absence, starting the absence if none is running
   * (signal-with-start: two submissions at once still make one absence). Before the case starts,
   * so the case's first report finds its absence.
   */
  private async joinAbsence(input: CaseInput, now: Date): Promise<void> {
    const join: AbsenceJoin = {
      caseId: input.caseId,
      sessionStartsAt: input.session.startsAt,
      submittedAt: input.submittedAt,
      ...(input.expectedReturn ? { expectedReturn: input.expectedReturn } : {}),
      client: input.client,
      recordsMode: input.recordsMode,
    };
    const absence: AbsenceInput = { absenceId: input.absenceId, therapist: input.therapist, policy: this.deps.policy, openedAt: now.toISOString() };
    const options = {
      taskQueue: this.deps.taskQueue,
      workflowId: absenceWorkflowId(input.absenceId),
      args: [absence] as [AbsenceInput],
      signal: joinAbsenceSignal,
      signalArgs: [join] as [AbsenceJoin],
      typedSearchAttributes: [
        { key: TherapistRef, value: input.therapist.id },
        { key: AbsenceReturn, value: input.expectedReturn ?? 'unknown' },
        // What the absence's first task would upsert after this join: it then upserts nothing.
        { key: OpenCases, value: 1 },
      ],
      staticSummary: `Absence of therapist ${input.therapist.id}`,
    };
    // Two joins racing to start the absence (the sessions of a batch start side by side): a server
    // that does not make signal-with-start atomic (the time-skipping test server) refuses the one
    // that lost; by then the absence runs, so the same call signals it.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.client.workflow.signalWithStart<typeof therapistAbsence, [AbsenceJoin]>('therapistAbsence', options);
        return;
      } catch (e) {
        if (!(e instanceof WorkflowExecutionAlreadyStartedError) || attempt >= 3) throw e;
      }
    }
  }

  /**
   * Starts the case, or finds the one already there; says whether that one had other details, and
   * raises on it a risk concern that only this submission records.
   */
  private async start(input: CaseInput): Promise<{ changesIgnored: boolean; riskRaised: boolean }> {
    const digest = this.digest(input);
    try {
      await startCaseWorkflow(this.deps.client, this.deps.taskQueue, input, digest);
      this.deps.onSubmitted?.('started');
      // Started: there was no earlier case to compare with or to raise a risk on.
      return { changesIgnored: false, riskRaised: false };
    } catch (e) {
      // The same session submitted again (double click, retry, correction): still one case.
      if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    }
    this.deps.onSubmitted?.('duplicate');
    const handle = this.deps.client.workflow.getHandle(caseWorkflowId(input.caseId));
    const earlier = await handle.describe();
    const changesIgnored = earlier.typedSearchAttributes.get(SubmissionDigest) !== digest;
    let riskRaised = false;
    if (changesIgnored && input.risk?.concern && earlier.typedSearchAttributes.get(RiskConcern) !== true && earlier.status.name === 'RUNNING') {
      // The update id makes a retried submission raise it once.
      await handle.executeUpdate(raiseRiskUpdate, {
        args: [{ by: input.therapist.id, source: 'therapist', ...(input.risk.note ? { note: input.risk.note } : {}) }],
        updateId: `resubmitted-risk-${digest.slice(0, 24)}`,
      });
      riskRaised = true;
    }
    return { changesIgnored, riskRaised };
  }

  /** A keyed digest of what the therapist submitted for the session (not when, or the policy). */
  private digest(input: CaseInput): string {
    const { therapist, reason, expectedReturn, session, client, rebook, risk } = input;
    return createHmac('sha256', this.digestKey)
      .update(JSON.stringify({ therapist, reason, expectedReturn, session, client, rebook, risk }))
      .digest('base64url');
  }

  /** The case's current view, with its absence as the absence sees it; undefined for an unknown id. */
  async view(caseId: string): Promise<CaseView | undefined> {
    if (!isCaseId(caseId)) return undefined;
    let view: CaseView;
    try {
      view = await this.deps.client.workflow.getHandle(caseWorkflowId(caseId)).query(viewQuery);
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return undefined;
      throw e;
    }
    const absence = await this.absenceOf(view);
    return absence ? { ...view, absence } : view;
  }

  /** The absence of a case, or undefined once it has ended (or for a case without one). */
  private async absenceOf(view: CaseView): Promise<AbsenceView | undefined> {
    if (!view.absenceId) return undefined;
    try {
      return await this.deps.client.workflow.getHandle(absenceWorkflowId(view.absenceId)).query(absenceViewQuery);
    } catch (e) {
      // An absence that has ended (or whose worker is busy) leaves the case page as it is.
      if (e instanceof WorkflowNotFoundError) return undefined;
      // A finished absence answers queries only while a worker holds its history; either way the case stands.
      if (e instanceof Error) return undefined;
      throw e;
    }
  }

  /**
   * Runs an update on the absence of a case (a new expected return, back early, a cover). Refused
   * with the absence's reason; gone when the absence has ended.
   */
  async actOnAbsence<R, A extends unknown[]>(caseId: string, update: UpdateDefinition<R, A>, args: A, updateId: string): Promise<ActOutcome<R>> {
    const view = await this.view(caseId);
    if (!view?.absence) return { kind: 'refused', reason: 'This absence has ended: the therapist is back and its cases are settled' };
    return this.run(this.deps.client.workflow.getHandle(absenceWorkflowId(view.absenceId)), update, args, updateId);
  }

  /**
   * Claims a time for a case at its absence before the case books it, so two clients of the
   * therapist cannot be booked into one time, whichever submission they came from (A5).
   */
  private async claim(caseId: string, slot: string, updateId: string): Promise<ActOutcome<unknown> | undefined> {
    const view = await this.view(caseId);
    if (!view?.absence) return undefined; // no absence running: nothing else can take the time
    const outcome = await this.run(this.deps.client.workflow.getHandle(absenceWorkflowId(view.absenceId)), claimSlotUpdate, [{ caseId, slot }], `claim-${updateId}`);
    return outcome.kind === 'done' ? undefined : outcome;
  }

  /**
   * Tells a case what became of one of its messages (a bounce, a delivery receipt). Returns false,
   * quietly, for an unknown case or one that has finished: there is nobody left to act on it.
   */
  async reportDelivery(caseId: string, report: DeliveryReport): Promise<boolean> {
    if (!isCaseId(caseId)) return false;
    try {
      await this.handle(caseId).signal(deliveryReportSignal, report);
      return true;
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return false;
      throw e;
    }
  }

  /**
   * Records that the client opened the link in their message: evidence they know of the
   * cancellation. A finished or unknown case needs nothing.
   */
  async clientSeen(caseId: string): Promise<void> {
    if (!isCaseId(caseId)) return;
    try {
      await this.handle(caseId).signal(clientSeenSignal);
    } catch (e) {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    }
  }

  /** One page of a staff case list, from search attributes alone (src/ops/case-lists.ts). */
  async list(filter: ListFilter, page: PageRequest): Promise<CasePage> {
    const now = this.now();
    return listPage(this.deps.client, listQuery(filter, this.deps.policy, now), page, this.deps.policy, now);
  }

  /** Every case of a list up to `cap`, from search attributes alone (the escalation team's queue). */
  async listAll(filter: ListFilter, cap: number): Promise<{ rows: CaseRow[]; more: boolean }> {
    const now = this.now();
    return listAll(this.deps.client, listQuery(filter, this.deps.policy, now), cap, this.deps.policy, now);
  }

  /** How many cases a list holds. */
  async count(filter: ListFilter): Promise<number> {
    return countCases(this.deps.client, listQuery(filter, this.deps.policy, this.now()));
  }

  /** The lead's charts: cancellations per day and time to rebook, from search attributes alone. */
  async leadCharts(): Promise<LeadCharts> {
    const now = this.now().getTime();
    const { cases, capped } = await readChartCases(this.deps.client, chartsQuery(now));
    return aggregate(cases, now, capped);
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }

  private handle(caseId: string) {
    return this.deps.client.workflow.getHandle(caseWorkflowId(caseId));
  }

  /**
   * Runs one action on a case as a Workflow Update. The update id comes from the rendered form,
   * so a double click or a retried request is one effect. Every route that changes a case goes
   * through here; none holds a Temporal handle of its own.
   */
  async act<R, A extends unknown[]>(
    caseId: string,
    update: UpdateDefinition<R, A>,
    args: A,
    updateId: string,
  ): Promise<ActOutcome<R>> {
    if (!isCaseId(caseId)) return { kind: 'gone' };
    const slot = bookedBy(update.name, args[0]);
    if (slot) {
      const refused = await this.claim(caseId, slot, updateId);
      if (refused) return refused as ActOutcome<R>;
    }
    const outcome = await this.run(this.deps.client.workflow.getHandle(caseWorkflowId(caseId)), update, args, updateId);
    if (slot && outcome.kind !== 'done') await this.release(caseId, slot);
    return outcome;
  }

  /** Gives a claimed time back when the case refused the booking after all. */
  private async release(caseId: string, slot: string): Promise<void> {
    const view = await this.view(caseId).catch(() => undefined);
    if (!view?.absenceId) return;
    await this.deps.client.workflow
      .getHandle(absenceWorkflowId(view.absenceId))
      .signal(releaseSlotSignal, { caseId, slot })
      .catch(() => undefined);
  }

  private async run<R, A extends unknown[]>(handle: WorkflowHandle, update: UpdateDefinition<R, A>, args: A, updateId: string): Promise<ActOutcome<R>> {
    try {
      // The SDK types updates with and without arguments as two overloads; `args: A` is already
      // tied to the update's own argument type above, so one cast covers both.
      const result = await handle.executeUpdate(update as unknown as UpdateDefinition<R, [unknown]>, {
        args: args as unknown as [unknown],
        updateId,
      });
      return { kind: 'done', result };
    } catch (e) {
      if (e instanceof WorkflowUpdateFailedError) {
        const cause = e.cause;
        return {
          kind: 'refused',
          reason: cause instanceof Error && cause.message ? cause.message : 'The case could not be changed',
        };
      }
      if (e instanceof WorkflowNotFoundError) return { kind: 'gone' };
      throw e;
    }
  }

  /** The keyed id of a therapist's absence (no personal data): its workflow is `absence-<id>`. */
  absenceIdOf(therapistId: string): string {
    return this.derive('absence', therapistId);
  }

  private derive(kind: 'case' | 'absence', ...parts: string[]): string {
    const digest = createHmac('sha256', this.idKey).update([kind, ...parts].join('\u0000')).digest('hex');
    return `${kind === 'case' ? 'c' : 'a'}${digest.slice(0, 20)}`;
  }
}

/** The time an update books, for the updates that book one: it is claimed at the absence first. */
function bookedBy(update: string, arg: unknown): string | undefined {
  const a = (arg ?? {}) as { slot?: unknown; rebookedSlot?: unknown };
  const slot = update === 'chooseSlot' || update === 'recordRebooking' ? a.slot : update === 'recordPhoneOutcome' ? a.rebookedSlot : undefined;
  return typeof slot === 'string' ? slot : undefined;
}

/**
 * Starts a case workflow: the one place its start options live, for the web app and for a worker
 * starting a follow-on case. Throws WorkflowExecutionAlreadyStartedError when the case exists.
 */
export async function startCaseWorkflow(client: Client, taskQueue: string, input: CaseInput, digest?: string): Promise<void> {
  await client.workflow.start<typeof cancellationCase>('cancellationCase', {
    taskQueue,
    workflowId: caseWorkflowId(input.caseId),
    // The attributes below are those of the contacting stage: the case's first task need not upsert.
    args: [{ ...input, attributesSetAtStart: true }],
    // A case already there for this session, running or finished, refuses the start: the refusal is
    // how the SDK reports it (a start it accepts says nothing more), and only then is the earlier
    // case described. A retried request is not refused: it carries the same request id.
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    typedSearchAttributes: [
      { key: CaseStage, value: 'contacting' },
      ...(digest ? [{ key: SubmissionDigest, value: digest }] : []),
      // Set before any worker runs, so a case nobody picks up still turns late.
      { key: NextDeadline, value: new Date(Date.parse(input.submittedAt) + input.policy.contactWithinMs) },
      { key: TherapistRef, value: input.therapist.id },
      { key: RiskConcern, value: input.risk?.concern === true },
      { key: DocsComplete, value: false },
      { key: SessionStart, value: new Date(input.session.startsAt) },
      { key: AbsenceId, value: input.absenceId },
      { key: CancelledAtUnix, value: Math.floor(Date.parse(input.submittedAt) / 1000) },
    ],
    // Shown in the Web UI's list and detail views: no client name or contact details.
    staticSummary: `${input.followOn ? 'Withdrawn booking' : 'Cancelled session'} ${formatUk(input.session.startsAt)}, therapist ${input.therapist.id}`,
    staticDetails: [
      `Session: ${formatUk(input.session.startsAt)}`,
      `Therapist: ${input.therapist.id}`,
      `Contact by: ${input.client.preferredContact}`,
      'slots' in input.rebook ? `Slots offered: ${input.rebook.slots.length}` : `Callback by: ${formatUk(input.rebook.callbackBy)}`,
      ...(input.followOn ? [`Follows case: ${input.followOn.fromCaseId}`] : []),
      `Case page: /cancellations/${input.caseId}`,
      // One paragraph: the Web UI renders details as markdown in a box about five lines high,
      // and would run separate lines together anyway.
    ].join(' · '),
  });
}

/** Starts a case an absence decided on; one started before (a retried activity) is left as it is. */
export async function startCaseIfNew(client: Client, taskQueue: string, input: CaseInput): Promise<void> {
  try {
    await startCaseWorkflow(client, taskQueue, input);
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
  }
}
