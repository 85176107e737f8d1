/**
 * The cancellation workflow, rule by rule (W1-W17), on the time-skipping test server with the
 * real policy durations: each test sleeps through hours and days of server time.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTimeSkippingEnv } from '../helpers/temporal';
import type { CaseView } from '../../src/shared/case';
import {
  acknowledgeEscalationUpdate,
  chooseSlotUpdate,
  closeCaseUpdate,
  confirmRecordUpdate,
  raiseRiskUpdate,
  recordPhoneOutcomeUpdate,
  recordRebookingUpdate,
  reportRecordsUnavailableUpdate,
  reportUnhappyUpdate,
  requestCallUpdate,
  slotTakenSignal,
} from '../../src/shared/messages';
import { DEFAULT_POLICY as P } from '../../src/shared/policy';
import { caseInput, DAY, expectRefused, slotsOf, HOUR, MINUTE, newCaseId, recordHistory, Recorder, startCase, withWorker } from './harness';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
}, 180_000);

afterAll(async () => {
  await env?.teardown();
});

const now = () => env.currentTimeMs();

async function confirmAllRecords(c: Awaited<ReturnType<typeof startCase>>, by = 'T-1001') {
  for (const record of ['attendance', 'clinicalNote', 'nextSession'] as const) {
    await c.handle.executeUpdate(confirmRecordUpdate, { args: [{ by, record }] });
  }
}

/** Open duties other than the records owed from the start and acknowledgements of escalations. */
const openWork = (v: CaseView) => v.duties.filter((d) => !d.metAt && d.kind !== 'records' && d.kind !== 'acknowledge');
const openDuties = (v: CaseView) => v.duties.filter((d) => !d.metAt);

/** Acknowledges one escalation as a clinical lead. */
const ackAsLead = (c: Awaited<ReturnType<typeof startCase>>, escalationId: string) =>
  c.handle.executeUpdate(acknowledgeEscalationUpdate, { args: [{ by: 'LEAD-1', role: 'clinical-lead', escalationId }] });

describe('contacting the client and rebooking', () => {
  test('W1 email: the client is offered the slots with a link, picks one, and client and therapist get a confirmation', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const input = caseInput(await now());
      const c = await startCase(env, tq, input);
      const waiting = await c.until((v) => v.stage === 'awaiting-choice', 'slot offer');
      expect(rec.clientMessages).toEqual([expect.objectContaining({ kind: 'slotOffer', channel: 'email', slots: slotsOf(input) })]);
      expect(openWork(waiting)).toEqual([expect.objectContaining({ owner: 'client', kind: 'choose' })]);

      const slot = slotsOf(input)[1]!;
      await expectRefused(c.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot: new Date((await now()) + 9 * DAY).toISOString() }] }), /not one of the offered slots/);
      expect(await c.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot }] })).toEqual({ slot });
      // W15: a repeated choice answers the same; a different one is refused.
      expect(await c.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot }] })).toEqual({ slot });
      await expectRefused(c.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot: slotsOf(input)[0]! }] }), /already been booked/);

      const booked = await c.until((v) => v.stage === 'awaiting-documentation', 'documentation stage');
      expect(booked.bookedSlot).toBe(slot);
      expect(rec.clientMessages.filter((m) => m.kind === 'confirmation')).toEqual([expect.objectContaining({ bookedSlot: slot })]);
      expect(rec.therapistMessages.filter((m) => m.kind === 'confirmation')).toHaveLength(1);
      expect(rec.escalations()).toEqual([]);
      await recordHistory('w1-email-choice', c);
    });
  });

  test('W1 a slot already in the past cannot be chosen', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const early = new Date(t + 3 * HOUR).toISOString();
      const c = await startCase(env, tq, caseInput(t, { session: { id: 'S-1', startsAt: new Date(t + 2 * HOUR).toISOString() }, rebook: { slots: [early, new Date(t + 5 * DAY).toISOString()] } }));
      await c.until((v) => v.stage === 'awaiting-choice');
      await env.sleep(4 * HOUR);
      await expectRefused(c.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot: early }] }), /must be in the future/);
    });
  });

  test('W2 sms: the same offer goes by SMS and the choice is confirmed by SMS', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const input = caseInput(await now(), { client: { ref: 'C-3', firstName: 'Ana', preferredContact: 'sms', phone: '+447700900456' } });
      const c = await startCase(env, tq, input);
      await c.until((v) => v.stage === 'awaiting-choice');
      const slot = slotsOf(input)[0]!;
      await c.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot }] });
      await c.until((v) => v.stage === 'awaiting-documentation');
      expect(rec.clientMessages.map((m) => [m.kind, m.channel])).toEqual([
        ['slotOffer', 'sms'],
        ['confirmation', 'sms'],
      ]);
    });
  });

  test('W3 phone: the therapist gets a call task at once, and support is asked to phone when no outcome is recorded by the deadline', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const input = caseInput(t, { client: { ref: 'C-4', firstName: 'Jo', preferredContact: 'phone', phone: '+447700900789' } });
      const c = await startCase(env, tq, input);
      await c.until((v) => v.stage === 'awaiting-phone-outcome');
      expect(rec.clientMessages).toEqual([]);
      expect(rec.therapistMessages).toEqual([expect.objectContaining({ kind: 'callTask', contact: expect.objectContaining({ method: 'phone', voicemailAllowed: false, purpose: 'cancel' }) })]);

      await env.sleep(2 * DAY - P.phoneOutcomeLeadMs - HOUR);
      await c.until(() => true);
      expect(rec.escalations('support')).toEqual([]);
      await env.sleep(90 * MINUTE); // past the phone deadline, before the session starts
      const v = await c.until((x) => x.duties.some((d) => !d.metAt && d.owner === 'support' && d.kind === 'phone'), 'support duty');
      expect(rec.escalations('support')).toEqual([expect.objectContaining({ team: 'support', sessionStartsAt: input.session.startsAt, deadline: input.session.startsAt })]);
      expect(v.stage).toBe('awaiting-phone-outcome');
    });
  });

  test('W3 phone: a recorded outcome with a new time rebooks the client and nobody is escalated', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const c = await startCase(env, tq, caseInput(t, { client: { ref: 'C-5', firstName: 'Jo', preferredContact: 'phone', phone: '+447700900789' } }));
      await c.until((v) => v.stage === 'awaiting-phone-outcome');
      await expectRefused(c.handle.executeUpdate(recordPhoneOutcomeUpdate, { args: [{ by: 'T-1001', reached: true }] }), /new session time/);
      const slot = new Date(t + 6 * DAY).toISOString();
      await c.handle.executeUpdate(recordPhoneOutcomeUpdate, { args: [{ by: 'T-1001', reached: true, rebookedSlot: slot, note: 'agreed by phone' }] });
      const v = await c.until((x) => x.stage === 'awaiting-documentation');
      expect(v.bookedSlot).toBe(slot);
      // Past the phone deadline (session start less the lead time): nothing left to chase.
      await env.sleep(2 * DAY - 30 * MINUTE);
      await c.until(() => true);
      expect(rec.escalations()).toEqual([]);
    });
  });

  test('W3 phone: a call that does not reach the client is an attempt; the therapist may try again before the deadline, or hand it to support at once', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now(), { client: { ref: 'C-6', firstName: 'Jo', preferredContact: 'phone', phone: '+447700900789' } }));
      await c.until((v) => v.stage === 'awaiting-phone-outcome');
      await c.handle.executeUpdate(recordPhoneOutcomeUpdate, { args: [{ by: 'T-1001', reached: false, note: 'no answer' }] });
      await c.handle.executeUpdate(recordPhoneOutcomeUpdate, { args: [{ by: 'T-1001', reached: false, note: 'no answer again' }] });
      const tried = await c.until(() => true);
      expect(tried.duties.filter((d) => !d.metAt && d.kind === 'phone')).toEqual([expect.objectContaining({ owner: 'therapist', attempts: 2 })]);
      expect(rec.escalations('support')).toEqual([]);
      await c.handle.executeUpdate(recordPhoneOutcomeUpdate, { args: [{ by: 'T-1001', reached: false, handOver: true }] });
      await c.until((v) => v.duties.some((d) => !d.metAt && d.owner === 'support'));
      expect(rec.escalations('support')).toHaveLength(1);
    });
  });

  test('W4 voicemail: only a client who chose voicemail gets a call task that allows one', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now(), { client: { ref: 'C-7', firstName: 'Lee', preferredContact: 'voicemail', phone: '+447700900321' } }));
      await c.until((v) => v.stage === 'awaiting-phone-outcome');
      expect(rec.therapistMessages).toEqual([expect.objectContaining({ kind: 'callTask', contact: expect.objectContaining({ method: 'voicemail', voicemailAllowed: true }) })]);
      expect(rec.clientMessages).toEqual([]);
    });
  });

  test('W5 a rejected address alerts support at once with the session time, and support owns the case', async () => {
    const rec = new Recorder({ client: 'rejected' });
    await withWorker(env, rec, async (tq) => {
      const input = caseInput(await now());
      const c = await startCase(env, tq, input);
      const v = await c.until((x) => x.stage === 'awaiting-phone-outcome', 'support hand-over');
      expect(rec.escalations('support')).toEqual([expect.objectContaining({ sessionStartsAt: input.session.startsAt, reason: expect.stringMatching(/could not be reached by email/) })]);
      expect(openWork(v)).toEqual([expect.objectContaining({ owner: 'support', kind: 'phone', deadline: input.session.startsAt, clientFacing: true })]);
      expect(v.timeline.some((e) => e.kind === 'message' && e.outcome === 'failed')).toBe(true);
    });
  });

  test('W5 a channel that keeps failing past its retry budget alerts support', async () => {
    const rec = new Recorder({ client: 'down' });
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now()));
      await env.sleep(30 * MINUTE);
      await c.until((x) => x.stage === 'awaiting-phone-outcome', 'support hand-over after retries');
      expect(rec.escalations('support')).toHaveLength(1);
    });
  });

  test('W5 an offer that fails only after the therapist has rebooked the client by phone changes nothing', async () => {
    const rec = new Recorder({ client: 'down' });
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const c = await startCase(env, tq, caseInput(t));
      await c.handle.executeUpdate(recordRebookingUpdate, { args: [{ by: 'T-1001', slot: new Date(t + 5 * DAY).toISOString() }] });
      await env.sleep(30 * MINUTE);
      const v = await c.until((x) => x.timeline.some((e) => e.outcome === 'failed'), 'the offer to fail');
      expect(v.stage).toBe('awaiting-documentation');
      // Support is asked to phone about the confirmation that could not be sent, not about the offer.
      await c.until((x) => x.escalations.length === 1, 'support asked to pass on the confirmation');
      expect(rec.escalations().map((e) => e.reason)).toEqual([expect.stringMatching(/^A message to the client could not be delivered by email/)]);
      expect(openWork(await c.view())).toEqual([expect.objectContaining({ owner: 'support', kind: 'tell-client' })]);
    });
  });

  test('W3 W5 if support cannot reach the client by phone either, the network team hears at the support deadline', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const c = await startCase(env, tq, caseInput(t, { client: { ref: 'C-8', firstName: 'Jo', preferredContact: 'phone', phone: '+447700900789' } }));
      await c.until((v) => v.stage === 'awaiting-phone-outcome');
      await c.handle.executeUpdate(recordPhoneOutcomeUpdate, { args: [{ by: 'T-1001', reached: false, handOver: true }] });
      await c.until((v) => v.duties.some((d) => !d.metAt && d.owner === 'support'));
      await env.sleep(2 * DAY + MINUTE);
      const v = await c.until((x) => x.escalations.some((e) => e.team === 'network'), 'network escalation');
      expect(rec.escalations('network')).toEqual([expect.objectContaining({ reason: expect.stringMatching(/Neither the therapist nor support has reached the client/) })]);
      expect(openWork(v)).toEqual([expect.objectContaining({ owner: 'therapist', kind: 'follow-up' })]);
    });
  });

  test('W6 callback: the client is told when, the therapist is reminded before, and a missed callback escalates and keeps reminding', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const callbackBy = new Date(t + DAY).toISOString();
      const c = await startCase(env, tq, caseInput(t, { rebook: { callbackBy } }));
      await c.until((v) => v.stage === 'awaiting-callback');
      expect(rec.clientMessages).toEqual([expect.objectContaining({ kind: 'callbackPromise', callbackBy })]);

      await env.sleep(DAY - P.callbackReminderLeadMs + MINUTE);
      await c.until(() => true);
      expect(rec.therapistMessages.map((m) => m.kind)).toEqual(['callbackReminder']);
      expect(rec.escalations()).toEqual([]);

      await env.sleep(P.callbackReminderLeadMs);
      await c.until((v) => v.escalations.length === 1);
      expect(rec.escalations('network')).toEqual([expect.objectContaining({ reason: expect.stringMatching(/promised callback/) })]);

      await env.sleep(P.reminderRepeatMs);
      await c.until(() => true);
      expect(rec.therapistMessages.filter((m) => m.kind === 'callbackReminder').length).toBeGreaterThanOrEqual(3);

      await c.handle.executeUpdate(recordRebookingUpdate, { args: [{ by: 'T-1001', slot: new Date(t + 5 * DAY).toISOString() }] });
      await c.until((v) => v.stage === 'awaiting-documentation');
      await recordHistory('w6-callback', c);
    });
  });

  test('W7 no choice by the deadline gives the therapist a follow-up duty, and a missed follow-up escalates to the network team', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now()));
      const offered = await c.until((v) => v.stage === 'awaiting-choice');
      const choiceDue = Date.parse(openWork(offered)[0]!.deadline);
      await env.sleep(choiceDue - (await now()) + MINUTE);
      const fu = await c.until((v) => v.stage === 'awaiting-follow-up');
      expect(rec.therapistMessages.filter((m) => m.kind !== 'documentationReminder')).toEqual([expect.objectContaining({ kind: 'followUpDuty' })]);
      expect(openWork(fu)).toEqual([expect.objectContaining({ owner: 'therapist', kind: 'follow-up' })]);
      expect(rec.escalations('network')).toEqual([]);

      await env.sleep(P.followUpWindowMs + MINUTE);
      await c.until((v) => v.escalations.some((e) => e.team === 'network'));
      expect(rec.escalations('network')).toContainEqual(expect.objectContaining({ reason: expect.stringMatching(/not been rebooked/) }));
    });
  });

  test('W7 a client who asks to be called gets a therapist follow-up straight away', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now()));
      await c.until((v) => v.stage === 'awaiting-choice');
      await c.handle.executeUpdate(requestCallUpdate, { args: [] });
      await c.until((v) => v.stage === 'awaiting-follow-up');
      expect(rec.therapistMessages).toEqual([expect.objectContaining({ kind: 'followUpDuty' })]);
    });
  });
});

describe('one absence, two clients', () => {
  test('W1 W17 two clients of one absence who booked the same time in a race are caught once, and support is asked to rebook one', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const [low, high] = [newCaseId(), newCaseId()].sort();
      const input = caseInput(t, { caseId: high!, siblingCaseIds: [low!] });
      const c = await startCase(env, tq, input);
      await c.until((v) => v.stage === 'awaiting-choice');
      const slot = slotsOf(input)[0]!;
      await c.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot }] });
      // The sibling's news that it booked the same slot arrives after this case's own booking.
      await c.handle.signal(slotTakenSignal, { slot, from: low });
      await c.until(() => rec.escalations('support').length > 0, 'double-booking alert');
      expect(rec.escalations('support')).toEqual([expect.objectContaining({ reason: expect.stringMatching(/booked the same time/) })]);
      // The same news from a case with a later id is that case's to report.
      await c.handle.signal(slotTakenSignal, { slot, from: `${high}z` });
      // An update after the signal is handled after it, so the signal has been seen by now.
      const v = await c.until((x) => x.escalations.length === 1);
      await ackAsLead(c, v.escalations[0]!.id);
      await c.until(() => true);
      expect(rec.escalations('support')).toHaveLength(1);
      expect(openWork(await c.view())).toEqual([expect.objectContaining({ owner: 'support', kind: 'rebook' })]);
    });
  });

});

describe('escalations', () => {
  test('W10 a risk concern at submission reaches risk duty immediately, even while the client channel is stuck', async () => {
    const rec = new Recorder({ client: 'slow' });
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now(), { risk: { concern: true, note: 'canary-risk-note' } }));
      const deadline = Date.now() + 10_000;
      while (rec.escalations('risk').length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(rec.escalations('risk')).toHaveLength(1);
      expect(JSON.stringify(rec.escalations('risk'))).not.toContain('canary-risk-note');
      expect(rec.clientMessages).toEqual([]);
      expect((await c.view()).risk).toBe(true);
      // The slow client message still arrives, after the alert.
      await c.until((v) => v.stage === 'awaiting-choice');
      expect(rec.sent.map((s) => s.to)).toEqual(['team', 'client']);
    });
  });

  test('W10 a risk alert that cannot be delivered goes to support to pass on, with the network team and the clinical lead', async () => {
    const rec = new Recorder({ unreachableTeams: ['risk'] });
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now(), { risk: { concern: true } }));
      const v = await c.until((x) => x.escalations[0]?.delivery === 'failed' && rec.escalations('support').length > 0, 'fallback to support');
      expect(rec.escalations('support')).toEqual([expect.objectContaining({ team: 'risk', recipient: 'support', alert: 2 })]);
      expect(rec.escalations('network')).toHaveLength(1);
      expect(rec.escalations('lead')).toHaveLength(1);
      expect(v.escalations).toEqual([expect.objectContaining({ team: 'risk', delivery: 'failed', alerts: 2 })]);
    });
  });

  test('W10 W12 a rebooked, documented case with a risk concern completes only once a lead acknowledges the concern', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const input = caseInput(await now(), { risk: { concern: true } });
      const c = await startCase(env, tq, input);
      await c.chooseOffered();
      await confirmAllRecords(c);
      const v = await c.until((x) => x.records.nextSession.done, 'records confirmed');
      expect(v.stage).toBe('awaiting-documentation');
      expect(openDuties(v)).toEqual([expect.objectContaining({ owner: 'risk', kind: 'acknowledge' })]);
      expect(v.status).toMatch(/risk duty to acknowledge/);
      await ackAsLead(c, v.escalations[0]!.id);
      expect((await c.handle.result()).stage).toBe('completed');
    });
  });

  test('W10 a risk concern raised later by the client or therapist alerts risk duty each time', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now()));
      await c.until((v) => v.stage === 'awaiting-choice');
      await c.handle.executeUpdate(raiseRiskUpdate, { args: [{ by: 'client', source: 'client' }] });
      await c.handle.executeUpdate(raiseRiskUpdate, { args: [{ by: 'T-1001', source: 'therapist' }] });
      const v = await c.until((x) => x.escalations.length === 2);
      expect(rec.escalations('risk')).toHaveLength(2);
      expect(v.timeline.filter((e) => e.text.startsWith('Risk concern raised')).map((e) => e.text)).toEqual([
        'Risk concern raised by the client',
        'Risk concern raised by the therapist',
      ]);
      await recordHistory('w10-risk-raised', c);
    });
  });

  test('W11 a client who is unhappy or cannot wait is escalated to the clinical network team', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now()));
      await c.until((v) => v.stage === 'awaiting-choice');
      await c.handle.executeUpdate(reportUnhappyUpdate, { args: [{ by: 'client', source: 'client', cannotWait: true }] });
      await c.handle.executeUpdate(reportUnhappyUpdate, { args: [{ by: 'T-1001', source: 'therapist', cannotWait: false }] });
      await c.until((v) => v.escalations.length === 2);
      expect(rec.escalations('network').map((e) => e.reason)).toEqual([expect.stringMatching(/unable to wait/), expect.stringMatching(/unhappy/)]);
      const escs = (await c.view()).escalations;
      expect((await ackAsLead(c, escs[0]!.id)).status).toMatch(/awaiting acknowledgement/);
      expect((await ackAsLead(c, escs[1]!.id)).status).not.toMatch(/awaiting acknowledgement/);
    });
  });
});

describe('documentation and closing', () => {
  test('W12 missing records remind the therapist at the deadline, go to support after the grace period, and the case completes only once all three are confirmed', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const input = caseInput(await now());
      const c = await startCase(env, tq, input);
      await c.chooseOffered();
      await c.until((v) => v.stage === 'awaiting-documentation');
      await c.handle.executeUpdate(confirmRecordUpdate, { args: [{ by: 'T-1001', record: 'attendance' }] });

      await env.sleep(P.documentationDeadlineMs + MINUTE);
      await c.until(() => true);
      expect(rec.therapistMessages.filter((m) => m.kind === 'documentationReminder')).toEqual([expect.objectContaining({ missingRecords: ['clinicalNote', 'nextSession'] })]);
      expect(rec.escalations()).toEqual([]);

      await env.sleep(P.documentationGraceMs + MINUTE);
      const v = await c.until((x) => x.escalations.length === 1);
      expect(rec.escalations('support')).toHaveLength(1);
      expect(v.stage).toBe('awaiting-documentation');
      expect(openDuties(v).filter((d) => d.kind === 'records')).toEqual([expect.objectContaining({ owner: 'support' })]);

      await confirmAllRecords(c, 'SUPPORT-1');
      expect(await c.handle.result()).toEqual(expect.objectContaining({ stage: 'completed', bookedSlot: slotsOf(input)[0] }));
    });
  });

  test('W12 in MPB mode the case completes when the records system reports all three records', async () => {
    let documented = false;
    const rec = new Recorder({ records: () => ({ attendance: documented, clinicalNote: documented, nextSession: documented }) });
    await withWorker(env, rec, async (tq) => {
      const input = caseInput(await now(), { recordsMode: 'mpb' });
      const c = await startCase(env, tq, input);
      await c.chooseOffered();
      await env.sleep(P.documentationCheckIntervalMs + MINUTE);
      await c.until((v) => v.timeline.some((e) => e.text.startsWith('MPB checked')));
      expect((await c.view()).stage).toBe('awaiting-documentation');
      documented = true;
      const result = await c.handle.result();
      expect(result.stage).toBe('completed');
      expect(rec.recordChecks).toBeGreaterThanOrEqual(2);
    });
  });

  test('W13 MPB reported unreachable before the rebooking: support is told at once and owns the records once the client is rebooked', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const input = caseInput(await now());
      const c = await startCase(env, tq, input);
      await c.until((v) => v.stage === 'awaiting-choice');
      await c.handle.executeUpdate(reportRecordsUnavailableUpdate, { args: [{ by: 'T-1001' }] });
      await c.until((v) => v.escalations.length === 1);
      await c.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot: slotsOf(input)[0]! }] });
      const v = await c.until((x) => x.stage === 'awaiting-documentation' && x.escalations.length === 2);
      expect(openDuties(v).filter((d) => d.kind === 'records').map((d) => d.owner)).toEqual(['support', 'support']);
      expect(rec.escalations('support')).toHaveLength(2);
    });
  });

  test('W13 a therapist who cannot reach MPB gets support to add the notes straight away', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now()));
      await c.until((v) => v.stage === 'awaiting-choice');
      await c.handle.executeUpdate(reportRecordsUnavailableUpdate, { args: [{ by: 'T-1001' }] });
      await c.until((v) => v.escalations.length === 1);
      expect(rec.escalations('support')).toEqual([expect.objectContaining({ reason: expect.stringMatching(/MPB/) })]);
    });
  });

  test('W14 a clinical lead closes the case with a reason, and it says who and why', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now()));
      await c.until((v) => v.stage === 'awaiting-choice');
      await expectRefused(
        c.handle.executeUpdate(closeCaseUpdate, { args: [{ by: 'LEAD-1', role: 'clinical-lead', reason: 'client-withdrew', note: 'by phone' }] }),
        /Records are still owed/,
      );
      await c.handle.executeUpdate(closeCaseUpdate, {
        args: [{ by: 'LEAD-1', role: 'clinical-lead', reason: 'client-withdrew', note: 'by phone', recordsWaiver: 'Recorded as a withdrawal on MPB instead' }],
      });
      expect(await c.handle.result()).toEqual({ stage: 'closed', closedBy: 'LEAD-1', closeReason: 'client-withdrew', bookedSlot: undefined });
      const v = await c.view();
      expect(v.closed).toEqual(expect.objectContaining({ by: 'LEAD-1', reason: 'client-withdrew', recordsWaiver: 'Recorded as a withdrawal on MPB instead' }));
      expect(v.duties.every((d) => d.metAt)).toBe(true);
      expect(v.duties.find((d) => d.kind === 'records')).toEqual(expect.objectContaining({ outcome: 'waived', note: 'Recorded as a withdrawal on MPB instead' }));
    });
  });

  test('W15 a double-clicked choice with the same update id has one effect', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const input = caseInput(await now());
      const c = await startCase(env, tq, input);
      await c.until((v) => v.stage === 'awaiting-choice');
      const slot = slotsOf(input)[0]!;
      await Promise.all([1, 2].map(() => c.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot }], updateId: 'form-123' })));
      await c.until((v) => v.stage === 'awaiting-documentation');
      expect(rec.clientMessages.filter((m) => m.kind === 'confirmation')).toHaveLength(1);
    });
  });

  test('W16 the timeline records every message, escalation and duty with its deadline and who met it', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const input = caseInput(await now(), { risk: { concern: true } });
      const c = await startCase(env, tq, input);
      await c.chooseOffered();
      const v = await c.until((x) => x.stage === 'awaiting-documentation');
      expect(v.timeline).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'message', channel: 'email', outcome: 'sent', text: expect.stringMatching(/^Client: cancellation/) }),
          expect.objectContaining({ kind: 'escalation', team: 'risk' }),
          expect.objectContaining({ kind: 'duty', text: expect.stringMatching(/^For the client: Choose one of the offered times, by /) }),
        ]),
      );
      expect(v.duties.find((d) => d.kind === 'choose')).toEqual(expect.objectContaining({ owner: 'client', metBy: 'client', metAt: expect.any(String), deadline: expect.any(String), outcome: 'met' }));
      expect(v.escalations).toEqual([expect.objectContaining({ team: 'risk', at: expect.any(String), delivery: 'delivered', alerts: 1 })]);
    });
  });
});
