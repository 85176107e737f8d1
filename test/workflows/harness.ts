/**
 * Runs the real case workflow on the time-skipping test server with recording activities, so
 * tests assert on what the client, the therapist, the provider and each team received.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { startCaseIfNew } from '../../src/cases';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, makeTelemetryFilterString, Runtime, type WorkflowBundle } from '@temporalio/worker';
import type { CaseActivities, ClientNotice, EscalationNotice, ProviderNotice, RecordsStatus, TherapistNotice } from '../../src/shared/activities';
import { FailureType } from '../../src/shared/activities';
import type { CaseInput, CaseView } from '../../src/shared/case';
import { caseWorkflowId } from '../../src/shared/ids';
import { chooseSlotUpdate, viewQuery } from '../../src/shared/messages';
import { DEFAULT_POLICY, type Policy } from '../../src/shared/policy';
import { createCaseWorker, WORKFLOWS_PATH } from '../../src/temporal/worker';
import type { cancellationCase } from '../../workflows';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

// Worker warnings (an activity failure provoked on purpose; the Java test server not advertising
// a heartbeat capability) would drown the test output.
Runtime.install({
  logger: new DefaultLogger(process.env.TEST_LOG_LEVEL === 'WARN' ? 'WARN' : 'ERROR'),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }), forward: {} } },
});

let bundle: Promise<WorkflowBundle> | undefined;
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') });
  return bundle;
}

export type Sent =
  | { to: 'client'; notice: ClientNotice; at: number }
  | { to: 'therapist'; notice: TherapistNotice }
  | { to: 'provider'; notice: ProviderNotice }
  | { to: 'team'; notice: EscalationNotice };

export interface FakeOptions {
  /** How the client's channel behaves. */
  client?: 'ok' | 'rejected' | 'down' | 'slow';
  /**
   * What acceptance means: 'delivered' (the channel confirms at once, like the development
   * mailbox) or 'accepted' (a relay took it; only a later receipt or bounce will say more).
   */
  delivery?: 'delivered' | 'accepted';
  /** What Notify finally says of each text. */
  smsStatus?: 'delivered' | 'permanent-failure';
  records?: () => RecordsStatus;
  /** Teams whose address refuses escalations. */
  unreachableTeams?: EscalationNotice['team'][];
  /** The therapist's address refuses mail. */
  therapistUnreachable?: boolean;
  /** The records system does not answer. */
  recordsDown?: boolean;
  /** Client messages wait for this before they go (to act while one is on its way). */
  holdClient?: Promise<unknown>;
}

export class Recorder {
  readonly sent: Sent[] = [];
  /** Cases an absence started through the startCase activity. */
  readonly started: CaseInput[] = [];
  /** Steps whose text message was followed to a final status. */
  readonly smsFollowed: string[] = [];
  recordChecks = 0;
  /** Client messages the worker has begun to send (held or not). */
  clientAttempts = 0;
  constructor(private readonly opts: FakeOptions = {}) {}

  /** Client messages with the server time their send was scheduled at (time-skipped). */
  get clientSends(): { notice: ClientNotice; at: number }[] {
    return this.sent.flatMap((s) => (s.to === 'client' ? [{ notice: s.notice, at: s.at }] : []));
  }
  get clientMessages(): ClientNotice[] {
    return this.sent.flatMap((s) => (s.to === 'client' ? [s.notice] : []));
  }
  get therapistMessages(): TherapistNotice[] {
    return this.sent.flatMap((s) => (s.to === 'therapist' ? [s.notice] : []));
  }
  get providerMessages(): ProviderNotice[] {
    return this.sent.flatMap((s) => (s.to === 'provider' ? [s.notice] : []));
  }
  /** Alerts that reached a team (its own escalations and those it was copied into). */
  escalations(team?: EscalationNotice['team']): EscalationNotice[] {
    return this.sent.flatMap((s) => (s.to === 'team' && (!team || (s.notice.recipient ?? s.notice.team) === team) ? [s.notice] : []));
  }

  activities(startCase: CaseActivities['startCase'] = noStarter): CaseActivities {
    const confirmed = (this.opts.delivery ?? 'delivered') === 'delivered';
    const delivered = (channel: 'email' | 'sms') => ({
      channel,
      messageId: `<${randomUUID()}@test>`,
      acceptedAt: new Date().toISOString(),
      ...(channel === 'sms' ? { notifyId: randomUUID() } : {}),
      ...(confirmed ? { delivered: true } : {}),
    });
    return {
      notifyClient: async (notice) => {
        const mode = this.opts.client ?? 'ok';
        this.clientAttempts++;
        if (this.opts.holdClient) await this.opts.holdClient;
        if (mode === 'rejected') throw ApplicationFailure.nonRetryable('recipient rejected', FailureType.ChannelRejected);
        if (mode === 'down') throw new Error('connection refused');
        // Slow enough that anything else the case does must not wait for it.
        if (mode === 'slow') await new Promise((r) => setTimeout(r, 3_000));
        this.sent.push({ to: 'client', notice, at: Context.current().info.currentAttemptScheduledTimestampMs });
        return delivered(notice.channel);
      },
      notifyTherapist: async (notice) => {
        if (this.opts.therapistUnreachable) throw ApplicationFailure.nonRetryable('address rejected', FailureType.ChannelRejected);
        this.sent.push({ to: 'therapist', notice });
        return delivered('email');
      },
      notifyProvider: async (notice) => {
        this.sent.push({ to: 'provider', notice });
        return delivered('email');
      },
      escalate: async (notice) => {
        if (this.opts.unreachableTeams?.includes(notice.recipient ?? notice.team)) throw ApplicationFailure.nonRetryable('address rejected', FailureType.ChannelRejected);
        this.sent.push({ to: 'team', notice });
        return delivered('email');
      },
      checkRecords: async () => {
        this.recordChecks++;
        if (this.opts.recordsDown) throw ApplicationFailure.nonRetryable('MPB unavailable', FailureType.ChannelMisconfigured);
        return (this.opts.records ?? (() => ({ attendance: false, clinicalNote: false, nextSession: false })))();
      },
      startCase: (input) => {
        this.started.push(input);
        return startCase(input);
      },
      smsStatus: async (query) => {
        this.smsFollowed.push(query.step);
        const status = this.opts.smsStatus ?? 'delivered';
        return status === 'delivered' ? { step: query.step, status } : { step: query.step, status: 'failed', reason: status };
      },
    };
  }
}

const noStarter: CaseActivities['startCase'] = () => Promise.reject(ApplicationFailure.nonRetryable('no case starter in this test'));

let counter = 0;
export function newCaseId(): string {
  counter++;
  return `c${randomUUID().replace(/-/g, '').slice(0, 16)}${String(counter).padStart(4, '0')}`;
}

/**
 * The policy tests run with: the defaults, without quiet hours, since the time-skipping server starts
 * at the wall-clock time and a test must not behave differently in the evening. Quiet hours have
 * tests of their own that set the time of day.
 */
export const TEST_POLICY: Policy = { ...DEFAULT_POLICY, quietHoursStartHour: 0, quietHoursEndHour: 0 };

/** A case input relative to the test server's clock: session in 2 days, slots after it. */
export function caseInput(nowMs: number, over: Partial<CaseInput> = {}): CaseInput {
  const caseId = over.caseId ?? newCaseId();
  return {
    caseId,
    absenceId: 'a-test',
    siblingCaseIds: [],
    submittedAt: new Date(nowMs).toISOString(),
    therapist: { id: 'T-1001', name: 'Alex Morgan', email: 'alex@example.org' },
    reason: 'illness',
    session: { id: `S-${caseId.slice(-4)}`, startsAt: new Date(nowMs + 2 * DAY).toISOString() },
    client: { ref: 'C-2002', firstName: 'Sam', preferredContact: 'email', email: 'sam@example.org', phone: '+447700900123' },
    rebook: { slots: [new Date(nowMs + 4 * DAY).toISOString(), new Date(nowMs + 5 * DAY).toISOString()] },
    policy: TEST_POLICY,
    recordsMode: 'attestation',
    ...over,
  };
}

/** The slots a slot-offer case offers (empty for a callback case). */
export function slotsOf(input: CaseInput): string[] {
  return 'slots' in input.rebook ? input.rebook.slots : [];
}

export interface RunningCase {
  handle: WorkflowHandle<typeof cancellationCase>;
  /** Waits for the offer to reach the client, then chooses the offered slot at `index` as the client. */
  chooseOffered(index?: number): Promise<string>;
  view(): Promise<CaseView>;
  /** Waits (in real time, without skipping) until the view satisfies the predicate. */
  until(pred: (v: CaseView) => boolean, what?: string): Promise<CaseView>;
}

export async function startCase(env: TestWorkflowEnvironment, taskQueue: string, input: CaseInput): Promise<RunningCase> {
  const handle = await env.client.workflow.start<typeof cancellationCase>('cancellationCase', {
    taskQueue,
    workflowId: caseWorkflowId(input.caseId),
    args: [input],
  });
  return runningCase(handle, slotsOf(input));
}

/** A case started by someone else (CaseService, an absence), watched and terminated with the test's others. */
export function attachCase(env: TestWorkflowEnvironment, caseId: string, slots: string[] = []): RunningCase {
  return runningCase(env.client.workflow.getHandle<typeof cancellationCase>(caseWorkflowId(caseId)), slots);
}

/** Terminates this workflow too when the test's worker stops (an absence started by CaseService). */
export function terminateAtEnd(handle: WorkflowHandle): void {
  started.push(handle);
}

function runningCase(handle: WorkflowHandle<typeof cancellationCase>, slots: string[]): RunningCase {
  started.push(handle);
  const view = () => handle.query(viewQuery);
  const until = async (pred: (v: CaseView) => boolean, what = 'condition') => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      // A case started by an absence may not exist yet: wait for it as for anything else.
      const v = await view().catch((e: unknown) => {
        if (e instanceof WorkflowNotFoundError && Date.now() < deadline) return undefined;
        throw e;
      });
      if (v && pred(v) && v.sending === 0) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; case is: ${v?.status} (sending ${v?.sending})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const chooseOffered = async (index = 0) => {
    await until((v) => v.stage === 'awaiting-choice', 'slot offer');
    const slot = slots[index]!;
    await handle.executeUpdate(chooseSlotUpdate, { args: [{ slot }] });
    return slot;
  };
  return { handle, view, until, chooseOffered };
}

/**
 * Cases started by the current test. They are terminated when the test's worker stops: the
 * time-skipping server does not skip time while a workflow task waits for a worker, so a case
 * left running without one would stall every later test's sleep.
 */
const started: WorkflowHandle[] = [];

async function terminateStarted(env: TestWorkflowEnvironment): Promise<void> {
  // Latest first: a follow-on case ends before the absence that started it, so no parent is left
  // waiting on a child (which would hold the test server's clock).
  const handles = started.splice(0).reverse();
  if (!env.supportsTimeSkipping) {
    // A real server has no clock to hold: nothing to wait for.
    for (const handle of handles) await handle.terminate('test finished').catch(() => undefined); // already complete
    return;
  }
  for (const handle of handles) await terminateWhenQuiet(handle, 'test finished', { serverNow: () => env.currentTimeMs() });
  await releaseLeakedClockLock(env, 'the test\'s cases');
}

const { PENDING_ACTIVITY_STATE_SCHEDULED } = temporal.api.enums.v1.PendingActivityState;

/**
 * Terminates a workflow on the time-skipping test server without leaving its clock held.
 *
 * The Java test server holds a time-skipping lock for each activity task from the moment it is
 * scheduled until the worker reports it done, and for each workflow task until it completes.
 * Terminating the workflow in between makes that report fail ("Completed workflow") and the lock is
 * never given back: from then on every env.sleep() on that server runs in real time, so a test's
 * sleep of a day never returns (test/workflows/test-server-clock.test.ts shows it). So this waits
 * until nothing of the workflow is in flight: every pending activity is waiting out a retry
 * backoff (the server lets the clock skip then), a query has flushed any workflow task, no timer of
 * a case is about to fire (its view lists them; the clock runs in real time between sleeps), and
 * two looks in a row see the same. Then it terminates.
 */
export async function terminateWhenQuiet(handle: WorkflowHandle, reason = 'test finished', opts: { serverNow?: () => Promise<number>; withinMs?: number } = {}): Promise<void> {
  const withinMs = opts.withinMs ?? 15_000;
  const deadline = Date.now() + withinMs;
  let previous: string | undefined;
  for (;;) {
    const d = await handle.describe().catch(() => undefined);
    if (!d || d.status.name !== 'RUNNING') return; // already over (or never started)
    const pending = (d.raw.pendingActivities ?? []).map((a) => ({ id: a.activityId, attempt: a.attempt, state: a.state, backingOff: a.state === PENDING_ACTIVITY_STATE_SCHEDULED && !!a.lastFailure }));
    const seen = JSON.stringify(pending);
    const view = await handle.query(viewQuery).catch(() => undefined); // answered only after a workflow task in flight; an absence has no view
    const timerSoon = view && opts.serverNow ? await untilTimerSoon(view, opts.serverNow) : undefined;
    const quiet = pending.every((a) => a.backingOff) && timerSoon === undefined;
    if (quiet && seen === previous) break;
    if (Date.now() > deadline) {
      process.stderr.write(`[harness] ${d.workflowId} still had work in flight after ${withinMs / 1000} s (${seen}); terminating it anyway\n`);
      break;
    }
    previous = quiet ? seen : undefined;
    await new Promise((r) => setTimeout(r, timerSoon ?? 20)); // past a timer about to fire, or a moment
  }
  await handle.terminate(reason).catch(() => undefined); // ended meanwhile
}

/** Real time until just past a timer of the case due within two seconds of server time, if one is. */
async function untilTimerSoon(view: CaseView, serverNow: () => Promise<number>): Promise<number | undefined> {
  const now = await serverNow();
  const soon = view.timers.map((t) => Date.parse(t) - now).filter((ms) => ms <= 2_000);
  return soon.length ? Math.max(0, ...soon) + 50 : undefined;
}

/**
 * Gives back the time-skipping locks that a terminated workflow left on the test server, if any:
 * what terminateWhenQuiet cannot see coming (a retry backoff or a timer ending, in real time, in
 * the milliseconds between its last look and the termination). A minute of server time passes at
 * once when the clock is free; if it has not passed in `waitMs` of real time (10 s), a lock was
 * left, and an unlock frees it (the sleep then re-takes the test's own lock). Says so on stderr,
 * and returns how many it gave back.
 */
export async function releaseLeakedClockLock(env: TestWorkflowEnvironment, what: string, waitMs = 10_000): Promise<number> {
  let slept = false;
  const sleep = env.sleep(MINUTE).then(() => (slept = true));
  for (let released = 0; ; released++) {
    await Promise.race([sleep, new Promise((r) => setTimeout(r, waitMs))]);
    if (slept) return released;
    if (released === 5) throw new Error(`the test server still held its clock after terminating ${what}, with ${released} locks given back`);
    try {
      await env.connection.testService!.unlockTimeSkipping({}); // there on a time-skipping server
    } catch {
      await sleep; // no lock to give back ("Unbalanced lock and unlock calls"): the server was only slow
      return released;
    }
    process.stderr.write(`[harness] the test server still held its clock after terminating ${what}: released a lock it left\n`);
  }
}

/** Runs `body` with a worker polling a fresh task queue, using the recorder's activities. */
export async function withWorker<T>(env: TestWorkflowEnvironment, recorder: Pick<Recorder, 'activities'>, body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `test-${randomUUID()}`;
  // Cases an absence starts go on this test's task queue, and are terminated with its others.
  const startCase = async (input: CaseInput) => {
    await startCaseIfNew(env.client, taskQueue, input);
    started.push(env.client.workflow.getHandle(caseWorkflowId(input.caseId)));
  };
  const worker = await createCaseWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities: recorder.activities(startCase),
    workflowBundle: await workflowBundle(),
  });
  return worker.runUntil(async () => {
    let result: T;
    try {
      result = await body(taskQueue);
    } catch (e) {
      await terminateStarted(env).catch(() => undefined); // the body's failure is the one to report
      throw e;
    }
    await terminateStarted(env);
    return result;
  });
}

/**
 * One worker for many cases, each case with recorders of its own: activities are routed by the
 * case id they carry. Saves creating a worker per case in tests that run hundreds of them.
 */
export class RecorderRouter {
  private readonly byCase = new Map<string, Recorder>();

  use(caseId: string, recorder: Recorder): void {
    this.byCase.set(caseId, recorder);
  }

  private of(caseId: string): CaseActivities {
    const rec = this.byCase.get(caseId);
    if (!rec) throw ApplicationFailure.nonRetryable(`no recorder for case ${caseId}`);
    return rec.activities();
  }

  activities(startCase: CaseActivities['startCase'] = noStarter): CaseActivities {
    return {
      startCase,
      notifyClient: (n) => this.of(n.caseId).notifyClient(n),
      notifyTherapist: (n) => this.of(n.caseId).notifyTherapist(n),
      notifyProvider: (n) => this.of(n.caseId).notifyProvider(n),
      escalate: (n) => this.of(n.caseId).escalate(n),
      checkRecords: (q) => this.of(q.caseId).checkRecords(q),
      smsStatus: (q) => this.of(q.caseId).smsStatus(q),
    };
  }
}

/** Runs `body` with one worker whose activities the router hands to each case's recorder. */
export async function withRoutedWorker<T>(env: TestWorkflowEnvironment, router: RecorderRouter, body: (taskQueue: string) => Promise<T>): Promise<T> {
  return withWorker(env, router, body);
}

/** Asserts that an update was refused by the workflow's validator, with a reason matching `reason`. */
export async function expectRefused(update: Promise<unknown>, reason: RegExp): Promise<void> {
  const error = await update.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  expect((error as WorkflowUpdateFailedError).cause?.message).toMatch(reason);
}

export const HISTORIES_DIR = join(__dirname, '..', 'replay', 'histories');

/**
 * With RECORD_HISTORIES=1, saves the case's history (binary protobuf) for the replay tests. Re-record only when a
 * change to the workflow is meant to be incompatible (and then version it with patched()).
 */
export async function recordHistory(name: string, running: { handle: Pick<WorkflowHandle, 'fetchHistory'> }): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  mkdirSync(HISTORIES_DIR, { recursive: true });
  const history = temporal.api.history.v1.History.fromObject(await running.handle.fetchHistory());
  writeFileSync(join(HISTORIES_DIR, `${name}.history.bin`), temporal.api.history.v1.History.encode(history).finish());
}
