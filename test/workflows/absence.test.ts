/**
 * One absence, one coordinator (issue 11): a therapist's absence as its own workflow, joined by
 * every submission through CaseService exactly as the app does, on the time-skipping server with
 * the real policy durations.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CaseService } from '../../src/cases';
import { absenceViewQuery, absenceWorkflowId, assignCoverUpdate, reportAbsenceReturnUpdate, reportBackUpdate } from '../../src/shared/absence';
import type { ContactMethod, Submission } from '../../src/shared/api';
import { chooseSlotUpdate, confirmRecordUpdate } from '../../src/shared/messages';
import { DEFAULT_POLICY as P } from '../../src/shared/policy';
import { followOnId } from '../../workflows/absence/core';
import { eventually } from '../helpers/eventually';
import { createDevServerEnv, timeSkippingServerPerTest } from '../helpers/temporal';
import { attachCase, DAY, MINUTE, recordHistory, Recorder, terminateAtEnd, TEST_POLICY, withWorker } from './harness';

let env: TestWorkflowEnvironment;

const now = () => env.currentTimeMs();
const day = (t: number, n: number) => new Date(t + n * DAY).toISOString().slice(0, 10);
const at = (t: number, n: number) => new Date(t + n * DAY).toISOString();
/** Each test has a therapist of its own, so each has an absence of its own. */
let THERAPIST = { id: 'T-4242', name: 'Alex Morgan', email: 'alex@example.org' };
let seq = 0;
beforeEach(() => {
  THERAPIST = { ...THERAPIST, id: `T-${4242 + ++seq}` };
});

interface SessionSpec {
  firstName: string;
  inDays: number;
  contact?: ContactMethod;
  slots?: number[];
  callbackIn?: number;
}

function submission(t: number, sessions: SessionSpec[], returnIn?: number): Submission {
  return {
    therapist: THERAPIST,
    reason: 'illness',
    ...(returnIn !== undefined ? { expectedReturn: day(t, returnIn) } : {}),
    sessions: sessions.map((s) => ({
      id: `S-${++seq}-${t}`,
      startsAt: at(t, s.inDays),
      client: { ref: `C-${seq}`, firstName: s.firstName, preferredContact: s.contact ?? 'email', email: `${s.firstName.toLowerCase()}@example.org`, phone: '+447700900123' },
      rebook: s.callbackIn !== undefined ? { callbackBy: at(t, s.callbackIn) } : { slots: (s.slots ?? [8]).map((d) => at(t, d)) },
    })),
  };
}

/** CaseService on the test server, with a clock that follows it (submissions are stamped in server time). */
function service(tq: string, clock: { t: number }) {
  return new CaseService({ client: env.client, taskQueue: tq, policy: TEST_POLICY, recordsMode: 'attestation', caseIdKey: Buffer.alloc(32, 9), now: () => new Date(clock.t) });
}

function absenceOf(cases: CaseService) {
  const handle = env.client.workflow.getHandle(absenceWorkflowId(cases.absenceIdOf(THERAPIST.id)));
  terminateAtEnd(handle);
  const view = () => handle.query(absenceViewQuery);
  const until = async (pred: (v: Awaited<ReturnType<typeof view>>) => boolean, what: string) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const v = await view();
      if (pred(v)) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for the absence: ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { handle, view, until };
}

async function submitted(cases: CaseService, sub: Submission) {
  const ids = (await cases.submit(sub)).map((c) => c.caseId);
  absenceOf(cases); // terminated with the test's cases when its worker stops
  return ids.map((id, i) => attachCase(env, id, 'slots' in sub.sessions[i]!.rebook ? sub.sessions[i]!.rebook.slots : []));
}

describe('one absence, one coordinator', () => {
  // A time-skipping server per test (see timeSkippingServerPerTest for why).
  timeSkippingServerPerTest((e) => (env = e));

  test('A1 W8 W17 three submissions of one absence on three days: the latest return reaches every case, and the provider hears once per change', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const clock = { t };
      const cases = service(tq, clock);
      const [sam] = await submitted(cases, submission(t, [{ firstName: 'Sam', inDays: 2, slots: [6] }], 4));
      await sam!.until((v) => v.stage === 'awaiting-choice', 'Sam offered times');
      await env.sleep(DAY);
      clock.t = await now();
      const [kit] = await submitted(cases, submission(clock.t, [{ firstName: 'Kit', inDays: 2, slots: [6] }], 3));
      await kit!.until((v) => v.stage === 'awaiting-choice', 'Kit offered times');
      await env.sleep(DAY);
      clock.t = await now();
      const [ana] = await submitted(cases, submission(clock.t, [{ firstName: 'Ana', inDays: 2, slots: [9] }], 6));
      const longer = day(clock.t, 6);

      for (const c of [sam!, kit!, ana!]) await c.until((v) => v.expectedReturn === longer, 'the later return');
      // Monday's and Tuesday's clients hear of Wednesday's news; their times before it are withdrawn.
      expect((await sam!.view()).offeredSlots).toEqual([]);
      expect((await kit!.view()).offeredSlots).toEqual([]);
      const updates = rec.clientMessages.filter((m) => m.kind === 'absenceUpdate').map((m) => m.firstName).sort();
      expect(updates).toEqual(['Kit', 'Sam']);
      const absence = absenceOf(cases);
      const v = await absence.until((x) => x.sessions.length === 3, 'three sessions');
      expect(v.sessions.map((s) => s.clientFirstName)).toEqual(['Sam', 'Kit', 'Ana']);
      expect(v.expectedReturn).toBe(longer);
      expect(rec.providerMessages.map((m) => [m.kind, m.expectedReturn])).toEqual([
        ['absenceStarted', day(t, 4)],
        ['absenceExtended', longer],
      ]);
      expect((await sam!.view()).absenceId).toBe((await ana!.view()).absenceId);
      await recordHistory('a1-absence', absence);
    });
  });

  test('A2 A7 a return moved twice: every client and the provider hear each change once, and the same news again changes nothing', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const cases = service(tq, { t });
      const [a, b] = await submitted(cases, submission(t, [{ firstName: 'Sam', inDays: 2, slots: [20] }, { firstName: 'Kit', inDays: 3, contact: 'sms', slots: [21] }], 5));
      await a!.until((v) => v.stage === 'awaiting-choice', 'offer');
      await b!.until((v) => v.stage === 'awaiting-choice', 'offer');
      for (const [n, r] of [[10, 'extended'], [12, 'extended again']] as const) {
        const outcome = await cases.actOnAbsence(a!.handle.workflowId.slice('cancellation-'.length), reportAbsenceReturnUpdate, [{ by: THERAPIST.id, expectedReturn: day(t, n) }], `report-${n}`);
        expect(outcome.kind).toBe('done');
        for (const c of [a!, b!]) await c.until((v) => v.expectedReturn === day(t, n), r);
      }
      await cases.actOnAbsence(a!.handle.workflowId.slice('cancellation-'.length), reportAbsenceReturnUpdate, [{ by: THERAPIST.id, expectedReturn: day(t, 12) }], 'report-12-again');
      await a!.until(() => true);
      expect(rec.providerMessages.map((m) => m.kind)).toEqual(['absenceStarted', 'absenceExtended', 'absenceExtended']);
      expect(rec.clientMessages.filter((m) => m.kind === 'absenceUpdate').map((m) => m.channel).sort()).toEqual(['email', 'email', 'sms', 'sms']);
    });
  });

  test('A3 a client booked by one submission into a time a later submission\'s absence covers has the booking withdrawn, is told, and support rebooks them', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const clock = { t };
      const cases = service(tq, clock);
      const [sam] = await submitted(cases, submission(t, [{ firstName: 'Sam', inDays: 2, slots: [6] }], 3));
      await sam!.until((v) => v.stage === 'awaiting-choice', 'offer');
      const samId = sam!.handle.workflowId.slice('cancellation-'.length);
      expect((await cases.act(samId, chooseSlotUpdate, [{ slot: at(t, 6) }], 'sam-chooses')).kind).toBe('done');
      await sam!.until((v) => v.stage === 'awaiting-documentation', 'booked');
      // Another submission, with a later return.
      await submitted(cases, submission(t, [{ firstName: 'Kit', inDays: 3, slots: [12] }], 9));
      const v = await sam!.until((x) => x.withdrawnSlots.length === 1, 'the booking withdrawn');
      expect(v.bookedSlot).toBeUndefined();
      expect(rec.clientMessages.filter((m) => m.firstName === 'Sam').map((m) => m.kind)).toEqual(['slotOffer', 'confirmation', 'bookingWithdrawn']);
      expect(v.duties.filter((d) => !d.metAt && d.kind === 'rebook')).toEqual([expect.objectContaining({ owner: 'support' })]);
    });
  });

  test('A4 a finished case whose booking a later extension covers gets a follow-on case: the client is told it cannot go ahead and support rebooks them', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const cases = service(tq, { t });
      const [sam] = await submitted(cases, submission(t, [{ firstName: 'Sam', inDays: 2, slots: [6] }], 3));
      await sam!.until((v) => v.stage === 'awaiting-choice', 'offer');
      const samId = sam!.handle.workflowId.slice('cancellation-'.length);
      await cases.act(samId, chooseSlotUpdate, [{ slot: at(t, 6) }], 'sam-chooses');
      for (const record of ['attendance', 'clinicalNote', 'nextSession'] as const) await sam!.handle.executeUpdate(confirmRecordUpdate, { args: [{ by: THERAPIST.id, record }] });
      // Waited for by polling, not result(): the time-skipping server skips time while a result is awaited.
      await sam!.until((v) => v.stage === 'completed', 'the case complete');

      const absence = absenceOf(cases);
      await absence.until((x) => x.sessions[0]?.open === false, 'the absence to hear the case finished');
      expect((await cases.actOnAbsence(samId, reportAbsenceReturnUpdate, [{ by: THERAPIST.id, expectedReturn: day(t, 10) }], 'extend')).kind).toBe('done');
      const follow = attachCase(env, followOnId(samId, at(t, 6)));
      const v = await follow.until((x) => x.stage === 'awaiting-follow-up' && rec.clientMessages.some((m) => m.kind === 'bookingWithdrawn'), 'the follow-on case');
      expect(v.followsCaseId).toBe(samId);
      expect(v.sessionStartsAt).toBe(at(t, 6));
      expect(rec.clientMessages.filter((m) => m.kind === 'bookingWithdrawn')).toEqual([expect.objectContaining({ firstName: 'Sam', withdrawnSlot: at(t, 6) })]);
      expect(v.duties.filter((d) => !d.metAt && d.kind === 'rebook')).toEqual([expect.objectContaining({ owner: 'support', clientFacing: true })]);
      expect((await absence.view()).sessions.map((s) => s.caseId)).toContain(v.caseId);
    });
  });

  test('A5 two clients from two submissions choosing the same time: one wins, the other is offered the rest, and nobody needs support', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const cases = service(tq, { t });
      const [sam] = await submitted(cases, submission(t, [{ firstName: 'Sam', inDays: 2, slots: [6] }]));
      const [kit] = await submitted(cases, submission(t, [{ firstName: 'Kit', inDays: 3, slots: [6, 7] }]));
      await sam!.until((v) => v.stage === 'awaiting-choice', 'offer');
      await kit!.until((v) => v.stage === 'awaiting-choice', 'offer');
      const id = (c: typeof sam) => c!.handle.workflowId.slice('cancellation-'.length);
      const [first, second] = await Promise.all([
        cases.act(id(sam), chooseSlotUpdate, [{ slot: at(t, 6) }], 'sam-6'),
        cases.act(id(kit), chooseSlotUpdate, [{ slot: at(t, 6) }], 'kit-6'),
      ]);
      const outcomes = [first.kind, second.kind].sort();
      expect(outcomes).toEqual(['done', 'refused']);
      const loser = first.kind === 'refused' ? first : second;
      expect(loser).toEqual(expect.objectContaining({ reason: expect.stringMatching(/taken by another client/) }));
      const kitNow = await kit!.until(() => true);
      if (kitNow.bookedSlot === undefined) expect(kitNow.offeredSlots).toEqual([at(t, 7)]);
      expect(rec.escalations('support')).toEqual([]);
    });
  });

  test('A6 a phone client of an absent therapist: the call goes to support, and to a covering clinician once one is arranged, with the voicemail rule', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const cases = service(tq, { t });
      const [jo] = await submitted(cases, submission(t, [{ firstName: 'Jo', inDays: 2, contact: 'phone', slots: [9] }], 6));
      const v = await jo!.until((x) => x.duties.some((d) => !d.metAt && d.kind === 'phone'), 'the call');
      expect(v.therapistAway).toBe(true);
      expect(v.duties.filter((d) => !d.metAt && d.kind === 'phone')).toEqual([expect.objectContaining({ owner: 'support', what: expect.stringMatching(/do not leave a voicemail/) })]);
      expect(rec.therapistMessages.filter((m) => m.kind === 'callTask')).toEqual([]);
      expect(rec.escalations('support')).toEqual([expect.objectContaining({ reason: expect.stringMatching(/The therapist is away/) })]);

      const cover = { ref: 'COV-7', name: 'Robin Lee', email: 'robin.lee@example.org' };
      await absenceOf(cases).handle.executeUpdate(assignCoverUpdate, { args: [{ by: 'LEAD-1', cover }] });
      const covered = await jo!.until((x) => x.duties.some((d) => !d.metAt && d.kind === 'phone' && d.owner === 'cover'), 'the cover');
      expect(covered.cover).toEqual(cover);
      expect(rec.therapistMessages.filter((m) => m.kind === 'callTask')).toEqual([expect.objectContaining({ to: 'robin.lee@example.org', therapistName: 'Robin Lee', contact: expect.objectContaining({ voicemailAllowed: false }) })]);
    });
  });

  test('A9 an early return: times before the old return are offered again, calls go back to the therapist, and the provider hears', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const cases = service(tq, { t });
      // Straight through CaseService: the form would refuse times before the return.
      const [sam, jo] = await submitted(cases, submission(t, [{ firstName: 'Sam', inDays: 2, slots: [4, 12] }, { firstName: 'Jo', inDays: 3, contact: 'phone', slots: [13] }], 10));
      await sam!.until((v) => v.offeredSlots.length === 1, 'only the time after the return');
      await jo!.until((v) => v.duties.some((d) => !d.metAt && d.kind === 'phone' && d.owner === 'support'), 'support has the call');
      await absenceOf(cases).handle.executeUpdate(reportBackUpdate, { args: [{ by: THERAPIST.id }] });
      const samNow = await sam!.until((v) => v.offeredSlots.length === 2, 'the earlier time again');
      // Offered again means it can be chosen: the old expected return no longer bars it.
      await sam!.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot: samNow.offeredSlots[0]! }] });
      await sam!.until((v) => v.bookedSlot === samNow.offeredSlots[0], 'the earlier time booked');
      const joNow = await jo!.until((v) => v.duties.some((d) => !d.metAt && d.kind === 'phone' && d.owner === 'therapist'), 'the call back with the therapist');
      expect(joNow.therapistAway).toBe(false);
      expect(rec.therapistMessages.filter((m) => m.kind === 'callTask')).toEqual([expect.objectContaining({ to: THERAPIST.email })]);
      await absenceOf(cases).until((x) => x.returnedAt !== undefined, 'back');
      expect(rec.providerMessages.map((m) => m.kind)).toEqual(['absenceStarted', 'absenceEnded']);
    });
  });

  test('W9 A7 an expected return that passes silently: the therapist and the provider hear once for the absence, each waiting client hears, again on the cadence', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const cases = service(tq, { t });
      const [a, b] = await submitted(cases, submission(t, [{ firstName: 'Sam', inDays: 1, callbackIn: 10 }, { firstName: 'Kit', inDays: 1, callbackIn: 11 }], 1));
      await a!.until((v) => v.stage === 'awaiting-callback', 'callback');
      await b!.until((v) => v.stage === 'awaiting-callback', 'callback');
      await env.sleep(2 * DAY);
      await a!.until(() => rec.clientMessages.filter((m) => m.kind === 'absenceUpdate').length === 2, 'both clients told');
      expect(rec.therapistMessages.filter((m) => m.kind === 'absenceOverrunReminder')).toHaveLength(1);
      expect(rec.providerMessages.filter((m) => m.kind === 'absenceOverrun')).toHaveLength(1);
      expect(rec.clientMessages.filter((m) => m.kind === 'absenceUpdate').every((m) => m.expectedReturn === undefined)).toBe(true);
      await env.sleep(P.absenceUpdateCadenceMs + MINUTE);
      await a!.until(() => rec.providerMessages.filter((m) => m.kind === 'absenceOverrun').length === 2, 'the cadence');
      expect(rec.therapistMessages.filter((m) => m.kind === 'absenceOverrunReminder')).toHaveLength(2);
    });
  });
});

/**
 * A continue-as-new with updates arriving around it needs a real server: the time-skipping test
 * server loses an update that reaches a run at the moment it continues as new (the update then
 * never completes), which Temporal's own server hands to the new run. So A8 runs on the dev server.
 */
describe('one absence, one coordinator, on the dev server', () => {
  beforeAll(async () => {
    env = await createDevServerEnv();
  }, 180_000);
  afterAll(async () => {
    await env?.teardown();
  });

  test('A8 an absence that outlasts its history continues as new and keeps its cases, return, ledger and cover', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const cases = service(tq, { t });
      const absenceId = cases.absenceIdOf(THERAPIST.id);
      // Started as the app would, but with a small history budget so the test can see the carry-over.
      await env.client.workflow.signalWithStart('therapistAbsence', {
        taskQueue: tq,
        workflowId: absenceWorkflowId(absenceId),
        args: [{ absenceId, therapist: THERAPIST, policy: TEST_POLICY, openedAt: new Date(t).toISOString(), historyBudget: 40 }],
        signal: 'caseReport',
        signalArgs: [{ caseId: 'c00000000000000000000', stage: 'contacting', open: false }],
      });
      const absence = absenceOf(cases);
      const firstRun = (await absence.handle.describe()).runId;
      const [sam, kit] = await submitted(cases, submission(t, [{ firstName: 'Sam', inDays: 2, slots: [20, 21] }, { firstName: 'Kit', inDays: 3, slots: [20, 22] }], 5));
      await sam!.until((v) => v.stage === 'awaiting-choice', 'offer');
      await kit!.until((v) => v.stage === 'awaiting-choice', 'offer');
      const samId = sam!.handle.workflowId.slice('cancellation-'.length);
      expect((await cases.act(samId, chooseSlotUpdate, [{ slot: at(t, 20) }], 'sam-20')).kind).toBe('done');
      await cases.actOnAbsence(samId, assignCoverUpdate, [{ by: 'LEAD-1', cover: { ref: 'COV-1', name: 'Robin Lee', email: 'robin@example.org' } }], 'cover');
      for (const n of [8, 9, 10, 11, 12]) await cases.actOnAbsence(samId, reportAbsenceReturnUpdate, [{ by: THERAPIST.id, expectedReturn: day(t, n) }], `report-${n}`);
      // Each change's notice to the provider is an activity its update started, and the absence
      // continues as new only when none is under way: wait for both rather than assume they are done
      // when the last update returns (on a busy CI machine the last notice was once still on its way).
      const providerSent = (v: Awaited<ReturnType<typeof absence.view>>) => v.notices.filter((n) => n.to === 'provider' && n.status === 'sent').length;
      const later = await absence.until((v) => v.expectedReturn === day(t, 12) && providerSent(v) === 6, 'the last return, and every notice to the provider sent');
      expect(await eventually(async () => (await absence.handle.describe()).runId !== firstRun, true, 20_000)).toBe(true);
      expect(later.sessions.map((x) => x.clientFirstName)).toEqual(['Sam', 'Kit']);
      expect(later.cover).toEqual(expect.objectContaining({ ref: 'COV-1' }));
      // The ledger came across too: Kit cannot have the time Sam holds.
      const kitId = kit!.handle.workflowId.slice('cancellation-'.length);
      expect(await cases.act(kitId, chooseSlotUpdate, [{ slot: at(t, 20) }], 'kit-20')).toEqual(expect.objectContaining({ kind: 'refused' }));
      expect(rec.providerMessages.map((m) => m.kind)).toEqual(['absenceStarted', ...Array(5).fill('absenceExtended')]);
    });
  });
});
