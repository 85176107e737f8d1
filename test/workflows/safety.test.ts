/**
 * The safety net on the real workflow (time-skipping server, real policy durations): each of
 * the situations D1-D10 that used to leave a client untold or a risk alert unread, and the quiet
 * hours. Each test names the situation it proves handled.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CaseService } from '../../src/cases';
import type { CaseInput, CaseView } from '../../src/shared/case';
import { caseWorkflowId } from '../../src/shared/ids';
import {
  acknowledgeEscalationUpdate,
  chooseSlotUpdate,
  closeCaseUpdate,
  deliveryReportSignal,
  recordPhoneOutcomeUpdate,
  reportUnhappyUpdate,
} from '../../src/shared/messages';
import { absenceNewsSignal, absenceOverrunSignal } from '../../src/shared/absence';
import { DEFAULT_POLICY as P } from '../../src/shared/policy';
import { formatUkDate, ukLocalToInstant, ukDate } from '../../src/shared/time';
import { eventually } from '../helpers/eventually';
import { timeSkippingServerPerTest } from '../helpers/temporal';
import { caseInput, DAY, expectRefused, HOUR, MINUTE, Recorder, recordHistory, slotsOf, startCase, TEST_POLICY, terminateWhenQuiet, withWorker, type RunningCase } from './harness';

let env: TestWorkflowEnvironment;

// A time-skipping server per test (see timeSkippingServerPerTest for why).
timeSkippingServerPerTest((e) => (env = e));

const now = () => env.currentTimeMs();
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const open = (v: CaseView) => v.duties.filter((d) => !d.metAt);

/** The therapist reports back (the same return, now `returned`); the view once the case has taken it. */
async function reportBack(c: RunningCase, expectedReturn: string): Promise<CaseView> {
  await c.handle.signal(absenceNewsSignal, { by: 'T-1001', expectedReturn, returned: true });
  return c.until((v) => !v.therapistAway && v.timeline.some((e) => e.text === 'The therapist is back'));
}
const phoneClient = { ref: 'C-77', firstName: 'Jo', preferredContact: 'phone' as const, phone: '+447700900789' };
const lead = { by: 'LEAD-1', role: 'clinical-lead' as const };
const ack = (c: RunningCase, escalationId: string, who: { by: string; role: 'clinical-lead' | 'escalation-team' | 'therapist'; team?: 'risk' | 'network' | 'support' }) =>
  c.handle.executeUpdate(acknowledgeEscalationUpdate, { args: [{ ...who, escalationId }] });

describe('risk alerts are chased until someone who may acknowledges them', () => {
  test('D1 a risk alert that risk duty and support cannot receive is sent again and copied up the ladder, and the case says it was not delivered', async () => {
    const rec = new Recorder({ unreachableTeams: ['risk', 'support'] });
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now(), { risk: { concern: true } }));
      const first = await c.until((v) => v.escalations[0]?.delivery === 'failed' && v.escalations[0].alerts === 2, 'the alert to fail and climb');
      // Failed at once: the network team and the clinical lead are copied in straight away.
      expect(rec.escalations('network')).toEqual([expect.objectContaining({ team: 'risk', recipient: 'network' })]);
      expect(rec.escalations('lead')).toEqual([expect.objectContaining({ team: 'risk', recipient: 'lead' })]);
      expect(first.status).toMatch(/risk alert is waiting for risk duty/);
      expect(open(first)).toContainEqual(expect.objectContaining({ kind: 'acknowledge', owner: 'risk', nextChaseAt: expect.any(String) }));

      await env.sleep(2 * HOUR + MINUTE);
      const later = await c.until((v) => v.escalations[0]!.alerts >= 4, 'the alert to be sent again');
      expect(later.escalations).toEqual([expect.objectContaining({ team: 'risk', delivery: 'failed' })]);
      expect(later.escalations[0]!.acknowledgedAt).toBeUndefined();
      expect(rec.escalations('network').length).toBeGreaterThanOrEqual(3);
      expect(rec.escalations('lead').length).toBeGreaterThanOrEqual(3);
      expect(Date.parse(later.escalations[0]!.nextAlertAt!)).toBeGreaterThan(await now());
      expect(later.timeline.some((e) => e.text.startsWith('Alert not delivered'))).toBe(true);
    });
  });

  test('D2 only risk duty or a clinical lead can acknowledge a risk alert, one escalation at a time, and closing needs a lead and a decision about the risk', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now(), { risk: { concern: true } }));
      await c.until((v) => v.stage === 'awaiting-choice');
      await c.handle.executeUpdate(reportUnhappyUpdate, { args: [{ by: 'T-1001', source: 'therapist', cannotWait: false }] });
      const v = await c.until((x) => x.escalations.length === 2, 'a second escalation');
      const risk = v.escalations.find((e) => e.team === 'risk')!;
      const network = v.escalations.find((e) => e.team === 'network')!;

      await expectRefused(ack(c, risk.id, { by: 'S-1', role: 'escalation-team', team: 'support' }), /Only risk duty or a clinical lead/);
      await expectRefused(ack(c, risk.id, { by: 'T-1001', role: 'therapist' }), /Only a clinical lead or the escalation team/);
      await ack(c, network.id, { by: 'N-1', role: 'escalation-team', team: 'network' });
      expect((await c.view()).escalations.find((e) => e.id === risk.id)!.acknowledgedAt).toBeUndefined();

      const closure = { reason: 'handed-over' as const, recordsWaiver: 'Handed over with the notes' };
      await expectRefused(c.handle.executeUpdate(closeCaseUpdate, { args: [{ by: 'S-1', role: 'escalation-team', ...closure }] }), /Only a clinical lead can close/);
      await expectRefused(c.handle.executeUpdate(closeCaseUpdate, { args: [{ ...lead, ...closure }] }), /record your decision about the risk/);
      await c.handle.executeUpdate(closeCaseUpdate, { args: [{ ...lead, ...closure, riskDisposition: 'Spoke to the crisis team; they hold the risk' }] });
      const closed = await c.view();
      expect(closed.stage).toBe('closed');
      expect(closed.closed).toEqual(expect.objectContaining({ by: 'LEAD-1', riskDisposition: 'Spoke to the crisis team; they hold the risk' }));
      expect(closed.escalations.find((e) => e.id === risk.id)).toEqual(expect.objectContaining({ acknowledgedBy: 'LEAD-1', acknowledgedNote: expect.stringMatching(/crisis team/) }));
    });
  });

  test('D2 risk duty acknowledges its own alert; the acknowledgement names who and what they are doing', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now(), { risk: { concern: true } }));
      const v = await c.until((x) => x.escalations.length === 1);
      await ack(c, v.escalations[0]!.id, { by: 'R-1', role: 'escalation-team', team: 'risk' });
      const after = await c.view();
      expect(after.escalations[0]).toEqual(expect.objectContaining({ acknowledgedBy: 'R-1' }));
      expect(open(after).some((d) => d.kind === 'acknowledge')).toBe(false);
    });
  });
});

describe('sessions close to now', () => {
  test('D4 a phone client whose session is 20 minutes away: the call is due before it starts, and support is asked at once in parallel', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const startsAt = new Date(t + 20 * MINUTE).toISOString();
      const c = await startCase(env, tq, caseInput(t, { session: { id: 'S-20', startsAt }, client: phoneClient, rebook: { slots: [new Date(t + 3 * DAY).toISOString()] } }));
      const v = await c.until((x) => x.duties.some((d) => d.owner === 'support' && d.kind === 'phone'), 'support asked');
      const phones = open(v).filter((d) => d.kind === 'phone');
      expect(phones.map((d) => d.owner).sort()).toEqual(['support', 'therapist']);
      for (const d of phones) expect(Date.parse(d.deadline)).toBeLessThanOrEqual(Date.parse(startsAt));
      expect(rec.escalations('support')).toEqual([expect.objectContaining({ deadline: startsAt })]);
      expect(rec.therapistMessages).toEqual([expect.objectContaining({ kind: 'callTask', deadline: phones.find((d) => d.owner === 'therapist')!.deadline })]);
    });
  });

  test('D4 D7 an email client whose session is 20 minutes away, with no sign the email arrived, is phoned by support before it starts', async () => {
    const rec = new Recorder({ delivery: 'accepted' });
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const startsAt = new Date(t + 20 * MINUTE).toISOString();
      const c = await startCase(env, tq, caseInput(t, { session: { id: 'S-20', startsAt }, rebook: { slots: [new Date(t + 3 * DAY).toISOString()] } }));
      await c.until((v) => v.stage === 'awaiting-choice');
      expect(rec.escalations()).toEqual([]);
      await env.sleep(11 * MINUTE);
      const v = await c.until((x) => x.duties.some((d) => d.kind === 'confirm-told'), 'support asked to make sure');
      expect(open(v)).toContainEqual(expect.objectContaining({ kind: 'confirm-told', owner: 'support', deadline: startsAt, clientFacing: true }));
      expect(rec.escalations('support')).toEqual([expect.objectContaining({ deadline: startsAt })]);
    });
  });
});

describe('a longer absence', () => {
  /** A case of the usual input (times offered at 4 and 5 days), waiting for the client's choice. */
  async function choosingCase(tq: string): Promise<{ t: number; input: CaseInput; c: RunningCase }> {
    const t = await now();
    const input = caseInput(t);
    const c = await startCase(env, tq, input);
    await c.until((v) => v.stage === 'awaiting-choice');
    return { t, input, c };
  }

  test('D5 a client already rebooked into a session inside the longer absence has the booking withdrawn, is told, and support rebooks them', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const input = caseInput(t);
      const c = await startCase(env, tq, input);
      const slot = await c.chooseOffered(0);
      await c.until((v) => v.stage === 'awaiting-documentation');
      await c.handle.signal(absenceNewsSignal, { by: 'T-1001', expectedReturn: isoDate(t + 10 * DAY), returned: false });
      const v = await c.until((x) => x.withdrawnSlots.length === 1 && rec.clientMessages.some((m) => m.kind === 'bookingWithdrawn'), 'the booking withdrawn');
      expect(v.bookedSlot).toBeUndefined();
      expect(v.withdrawnSlots).toEqual([slot]);
      expect(v.stage).toBe('awaiting-follow-up');
      // Told that the booking cannot go ahead, not a contradictory "we will offer you a time".
      expect(rec.clientMessages.map((m) => m.kind)).toEqual(['slotOffer', 'confirmation', 'bookingWithdrawn']);
      expect(open(v)).toContainEqual(expect.objectContaining({ kind: 'rebook', owner: 'support', clientFacing: true }));
      expect(rec.escalations('support')).toEqual([expect.objectContaining({ reason: expect.stringMatching(/falls inside the therapist's longer absence/) })]);
      // A new booking must be after the return.
      await expectRefused(c.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot: slotsOf(input)[1]! }] }), /just been taken|not one of the offered|expected back|away then/);
    });
  });

  test('D5 a client rebooked after the new return keeps the booking and hears nothing contradictory', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const c = await startCase(env, tq, caseInput(t, { rebook: { slots: [new Date(t + 20 * DAY).toISOString()] } }));
      await c.chooseOffered(0);
      await c.handle.signal(absenceNewsSignal, { by: 'T-1001', expectedReturn: isoDate(t + 10 * DAY), returned: false });
      const v = await c.until((x) => x.expectedReturn === isoDate(t + 10 * DAY));
      expect(v.bookedSlot).toBeDefined();
      expect(rec.clientMessages.map((m) => m.kind)).toEqual(['slotOffer', 'confirmation']);
    });
  });

  test('D5 a client still choosing whose every offered time falls inside the longer absence hears of the new return, and a person takes the case at once, not at the choice deadline', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const { t, input, c } = await choosingCase(tq);
      // Offered at 4 and 5 days; the therapist is now away for 10 days.
      await c.handle.signal(absenceNewsSignal, { by: 'T-1001', expectedReturn: isoDate(t + 10 * DAY), returned: false });
      const v = await c.until((x) => x.stage === 'awaiting-follow-up', 'a person to take the case');
      expect(rec.clientMessages.map((m) => m.kind)).toEqual(['slotOffer', 'absenceUpdate']);
      expect(v.duties).toContainEqual(expect.objectContaining({ kind: 'choose', owner: 'client', metAt: expect.any(String) }));
      // The therapist is away with nobody covering: support follows up, with a deadline.
      const duty = open(v).find((d) => d.kind === 'follow-up')!;
      expect(duty).toEqual(expect.objectContaining({ owner: 'support', what: expect.stringMatching(/the absence has left none of the offered times to choose/) }));
      expect(Date.parse(duty.deadline)).toBe(Date.parse(duty.openedAt) + P.followUpWindowMs);
      expect(Date.parse(duty.deadline)).toBeLessThan(Date.parse(slotsOf(input)[0]!));
      expect(rec.escalations('support')).toContainEqual(expect.objectContaining({ reason: expect.stringMatching(/The therapist is away/) }));
      await expectRefused(c.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot: slotsOf(input)[0]! }] }), /away then|expected back/);
      await recordHistory('d5-nothing-left-to-choose', c);
    });
  });

  test('D5 a longer absence reported while the offer is still being sent, covering every time in it, gives a person the case as soon as the offer has gone', async () => {
    let release!: () => void;
    const rec = new Recorder({ holdClient: new Promise<void>((r) => (release = r)) });
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const c = await startCase(env, tq, caseInput(t));
      // The offer is held on its way: the news comes while the case is still contacting the client.
      // (c.until waits for nothing to be sending, so these two read the view themselves.)
      const whileSending = async (pred: (v: CaseView) => boolean) => expect(await eventually(async () => pred(await c.view()), true, 20_000)).toBe(true);
      try {
        await whileSending((x) => x.stage === 'contacting' && x.sending === 1 && rec.clientAttempts === 1);
        await c.handle.signal(absenceNewsSignal, { by: 'T-1001', expectedReturn: isoDate(t + 10 * DAY), returned: false });
        // The client's update about the absence waits behind the held offer too.
        await whileSending((x) => x.expectedReturn === isoDate(t + 10 * DAY) && x.stage === 'contacting');
      } finally {
        release();
      }
      const v = await c.until((x) => x.stage === 'awaiting-follow-up', 'a person to take the case');
      expect(v.timeline.findIndex((e) => e.text.startsWith('Expected return now'))).toBeGreaterThan(-1);
      expect(rec.clientMessages.map((m) => m.kind)).toContain('slotOffer');
      // The client's choice is never opened, only to be handed over in the same step.
      expect(v.duties.map((d) => d.kind)).not.toContain('choose');
      expect(open(v)).toContainEqual(expect.objectContaining({ kind: 'follow-up', owner: 'support', what: expect.stringMatching(/the absence has left none of the offered times to choose/) }));
      await recordHistory('d5-nothing-left-while-offering', c);
    });
  });

  test('D5 a client left with no offered time while a covering clinician is named is followed up by the cover', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const { t, c } = await choosingCase(tq);
      const cover = { ref: 'CV-1', name: 'Dr Cover', email: 'cover@example.org' };
      await c.handle.signal(absenceNewsSignal, { by: 'LEAD-1', expectedReturn: isoDate(t + 10 * DAY), returned: false, cover });
      const v = await c.until((x) => x.stage === 'awaiting-follow-up', 'a person to take the case');
      expect(open(v)).toContainEqual(expect.objectContaining({ kind: 'follow-up', owner: 'cover' }));
      expect(open(v).filter((d) => d.owner === 'support')).toEqual([]);
    });
  });

  /** A client still choosing hears the news, keeps their choice (no follow-up) and books the time at `slot`. */
  async function keepsChoosing(news: { expectedReturnInDays: number; returned: boolean }, slot: number): Promise<void> {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const { t, input, c } = await choosingCase(tq);
      const expectedReturn = isoDate(t + news.expectedReturnInDays * DAY);
      await c.handle.signal(absenceNewsSignal, { by: 'T-1001', expectedReturn, returned: news.returned });
      const v = await c.until((x) => x.expectedReturn === expectedReturn);
      expect(v.stage).toBe('awaiting-choice');
      expect(open(v).map((d) => d.kind)).toContain('choose');
      expect(open(v).map((d) => d.kind)).not.toContain('follow-up');
      // Told of a new return only while the therapist is still away; once back, no date is news.
      expect(rec.clientSends.filter((m) => m.notice.kind === 'absenceUpdate')).toHaveLength(news.returned ? 0 : 1);
      await c.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot: slotsOf(input)[slot]! }] });
      await c.until((x) => x.bookedSlot === slotsOf(input)[slot]);
    });
  }

  // Offered at 4 and 5 days.
  test('D5 A9 news that moves the return but says the therapist is already back leaves the client choosing', () =>
    keepsChoosing({ expectedReturnInDays: 10, returned: true }, 0));

  test('D5 a client still choosing, with an offered time after the new return, keeps choosing and may still book it', () =>
    keepsChoosing({ expectedReturnInDays: 4.5, returned: false }, 1));

  test('A9 D5 a booked client keeps their booking when news that moves the return also says the therapist is back, and hears no return date', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const c = await startCase(env, tq, caseInput(t));
      const slot = await c.chooseOffered(0); // 4 days on
      await c.until((x) => x.bookedSlot === slot);
      const sentBefore = rec.clientSends.length;
      // As a case joining an absence after the return hears it: the absence's date, and that the therapist is back.
      const expectedReturn = isoDate(t + 10 * DAY);
      await c.handle.signal(absenceNewsSignal, { by: 'T-1001', expectedReturn, returned: true });
      const v = await c.until((x) => x.expectedReturn === expectedReturn);
      await recordHistory('a9-moved-date-and-back', c);
      expect(v.therapistAway).toBe(false);
      expect(v.bookedSlot).toBe(slot);
      expect(v.withdrawnSlots).toEqual([]);
      expect(open(v).map((d) => d.kind)).not.toContain('rebook');
      expect(rec.clientSends.slice(sentBefore).map((m) => m.notice.kind)).toEqual([]);
      expect(v.timeline.map((e) => e.text)).toEqual(expect.arrayContaining(['The therapist is back', `Expected return now ${formatUkDate(expectedReturn)}`]));
    });
  });

  test('A9 W9 an overrun that reaches the case after the therapist is back tells the client nothing: the next message is the confirmation of the time they book', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const { t, input, c } = await choosingCase(tq);
      const expectedReturn = isoDate(t + 10 * DAY);
      await c.handle.signal(absenceNewsSignal, { by: 'T-1001', expectedReturn, returned: false });
      await c.until((x) => x.expectedReturn === expectedReturn && x.therapistAway);
      const back = await reportBack(c, expectedReturn);
      // An overrun the absence decided before the return, delivered after it (two signals, two deliveries).
      await c.handle.signal(absenceOverrunSignal);
      // The booking is handled after the overrun, so its view shows whatever the overrun did.
      await c.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot: slotsOf(input)[0]! }] });
      const v = await c.until((x) => x.bookedSlot === slotsOf(input)[0] && x.clientMessages.some((m) => m.kind === 'confirmation'));
      await recordHistory('a9-overrun-after-back', c);
      const told = new Set(back.clientMessages.map((m) => m.key));
      expect(v.clientMessages.filter((m) => !told.has(m.key)).map((m) => m.kind)).toEqual(['confirmation']);
    });
  });

  test('D8 a phone client of a longer absence is phoned by support, a tracked duty with a deadline that the network team hears of if missed', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const c = await startCase(env, tq, caseInput(t, { client: phoneClient }));
      await c.until((v) => v.stage === 'awaiting-phone-outcome');
      await c.handle.executeUpdate(recordPhoneOutcomeUpdate, { args: [{ by: 'T-1001', role: 'therapist', reached: true, callbackBy: new Date(t + 12 * DAY).toISOString() }] });
      await c.handle.signal(absenceNewsSignal, { by: 'T-1001', expectedReturn: isoDate(t + 15 * DAY), returned: false });
      const v = await c.until((x) => x.duties.some((d) => d.kind === 'tell-client'), 'support told to phone');
      const duty = open(v).find((d) => d.kind === 'tell-client')!;
      expect(duty).toEqual(expect.objectContaining({ owner: 'support', what: expect.stringMatching(/do not leave a voicemail/) }));
      expect(Date.parse(duty.deadline)).toBe(Date.parse(duty.openedAt) + P.followUpWindowMs);
      expect(rec.escalations('support')).toContainEqual(expect.objectContaining({ reason: expect.stringMatching(/absence continues/) }));
      // The callback the therapist promised goes to support while they are away (A6).
      expect(rec.escalations('support')).toContainEqual(expect.objectContaining({ reason: expect.stringMatching(/The therapist is away/) }));
      expect(rec.therapistMessages.filter((m) => m.contact?.purpose === 'absenceUpdate')).toEqual([]);

      await env.sleep(P.followUpWindowMs + MINUTE);
      await c.until((x) => x.escalations.some((e) => e.team === 'network' && /not done/.test(e.reason)), 'the network team told');
    });
  });
});

describe('the therapist and support', () => {
  test('D9 when support cannot reach a phone client, the therapist is told at once in the right words, and the network team makes a last attempt before the session', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const input = caseInput(t, { client: phoneClient });
      const c = await startCase(env, tq, input);
      await c.until((v) => v.stage === 'awaiting-phone-outcome');
      await c.handle.executeUpdate(recordPhoneOutcomeUpdate, { args: [{ by: 'T-1001', role: 'therapist', reached: false, handOver: true }] });
      await c.until((v) => v.duties.some((d) => !d.metAt && d.owner === 'support'));
      await c.handle.executeUpdate(recordPhoneOutcomeUpdate, { args: [{ by: 'S-1', name: 'Kit Evans', role: 'escalation-team', team: 'support', reached: false, note: 'rang twice, no answer', handOver: true }] });
      const v = await c.until((x) => x.duties.some((d) => !d.metAt && d.owner === 'network'), 'network asked');
      const told = rec.therapistMessages.filter((m) => m.contact?.purpose === 'notReached');
      expect(told).toHaveLength(1);
      expect(told[0]!.contact).toEqual(expect.objectContaining({ voicemailAllowed: false }));
      expect(open(v)).toContainEqual(expect.objectContaining({ kind: 'phone', owner: 'network', deadline: input.session.startsAt }));
      expect(open(v)).toContainEqual(expect.objectContaining({ kind: 'follow-up', owner: 'therapist' }));
      expect(v.timeline).toContainEqual(expect.objectContaining({ by: 'S-1', byName: 'Kit Evans', note: 'rang twice, no answer' }));
    });
  });
});

describe('documentation for every cancellation', () => {
  test('D10 a client never rebooked still has the attendance and clinical note chased, then owned by support', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now(), { rebook: { callbackBy: new Date((await now()) + 20 * DAY).toISOString() } }));
      await c.until((v) => v.stage === 'awaiting-callback');
      expect(open(await c.view())).toContainEqual(expect.objectContaining({ kind: 'records', owner: 'therapist' }));
      await env.sleep(P.documentationDeadlineMs + MINUTE);
      await c.until(() => rec.therapistMessages.some((m) => m.kind === 'documentationReminder'), 'the reminder');
      expect(rec.therapistMessages.filter((m) => m.kind === 'documentationReminder')).toEqual([expect.objectContaining({ missingRecords: ['attendance', 'clinicalNote'] })]);
      await env.sleep(P.documentationGraceMs + MINUTE);
      const v = await c.until((x) => x.duties.some((d) => !d.metAt && d.kind === 'records' && d.owner === 'support'), 'support owns the records');
      expect(v.bookedSlot).toBeUndefined();
      expect(rec.escalations('support')).toEqual([expect.objectContaining({ reason: expect.stringMatching(/Appointment Cancelled by Therapist/) })]);
    });
  });

  test('D10 the next-session record is due before the new session, not a day after a rebooking into a session hours away', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const soon = new Date(t + 8 * HOUR).toISOString();
      const c = await startCase(env, tq, caseInput(t, { session: { id: 'S-1', startsAt: new Date(t + 4 * HOUR).toISOString() }, rebook: { slots: [soon] } }));
      await c.chooseOffered(0);
      const v = await c.until((x) => x.stage === 'awaiting-documentation');
      const next = open(v).find((d) => d.kind === 'records' && /next session/.test(d.what))!;
      expect(Date.parse(next.deadline)).toBeLessThanOrEqual(Date.parse(soon) - P.nextSessionRecordLeadMs);
    });
  });
});

describe('delivery, not acceptance', () => {
  test('D7 an email accepted by the relay and later bounced makes support phone the client (W5), and accepted alone never counts as told', async () => {
    const rec = new Recorder({ delivery: 'accepted' });
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now()));
      const v = await c.until((x) => x.stage === 'awaiting-choice');
      expect(v.told).toBeUndefined();
      expect(v.clientMessages).toEqual([expect.objectContaining({ kind: 'slotOffer', status: 'accepted' })]);
      await c.handle.signal(deliveryReportSignal, { step: v.clientMessages[0]!.key, status: 'failed', reason: '5.1.1 user unknown' });
      const after = await c.until((x) => x.stage === 'awaiting-phone-outcome', 'support asked to phone');
      expect(after.clientMessages[0]).toEqual(expect.objectContaining({ status: 'failed', note: '5.1.1 user unknown' }));
      expect(rec.escalations('support')).toEqual([expect.objectContaining({ reason: expect.stringMatching(/could not be reached by email \(5\.1\.1/) })]);
    });
  });

  test('D7 a text that Notify reports as a permanent failure (a landline) makes support phone the client', async () => {
    const rec = new Recorder({ delivery: 'accepted', smsStatus: 'permanent-failure' });
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now(), { client: { ref: 'C-3', firstName: 'Ana', preferredContact: 'sms', phone: '+441632960001' } }));
      await c.until((x) => x.stage === 'awaiting-phone-outcome', 'support asked to phone');
      expect(rec.smsFollowed).toHaveLength(1);
      expect(rec.escalations('support')).toEqual([expect.objectContaining({ reason: expect.stringMatching(/could not be reached by sms \(permanent-failure/) })]);
    });
  });

  test('D7 a text Notify reports delivered counts as the client told', async () => {
    const rec = new Recorder({ delivery: 'accepted', smsStatus: 'delivered' });
    await withWorker(env, rec, async (tq) => {
      const c = await startCase(env, tq, caseInput(await now(), { client: { ref: 'C-3', firstName: 'Ana', preferredContact: 'sms', phone: '+447700900456' } }));
      const v = await c.until((x) => x.told !== undefined, 'delivery receipt');
      expect(v.told).toEqual(expect.objectContaining({ how: 'delivered' }));
      expect(v.clientMessages).toEqual([expect.objectContaining({ status: 'delivered' })]);
    });
  });
});

describe('resubmission', () => {
  test('D6 a session submitted again with a risk concern raises it on the existing case, and says so', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const t = await now();
      const cases = new CaseService({ client: env.client, taskQueue: tq, policy: TEST_POLICY, recordsMode: 'attestation', caseIdKey: Buffer.alloc(32, 7), now: () => new Date(t) });
      const session = { id: 'S-D6', startsAt: new Date(t + 2 * DAY).toISOString(), client: { ref: 'C-D6', firstName: 'Sam', preferredContact: 'email' as const, email: 'sam@example.org' }, rebook: { slots: [new Date(t + 4 * DAY).toISOString()] } };
      const submission = { therapist: { id: 'T-1001', name: 'Alex Morgan', email: 'alex@example.org' }, reason: 'illness' as const, sessions: [session] };
      const [first] = await cases.submit(submission);
      const again = await cases.submit({ ...submission, sessions: [{ ...session, risk: { concern: true, note: 'said they feel unsafe' } }] });
      expect(again).toEqual([{ caseId: first!.caseId, changesIgnored: true, riskRaised: true }]);
      const handle = env.client.workflow.getHandle(caseWorkflowId(first!.caseId));
      const deadline = Date.now() + 20_000;
      while (rec.escalations('risk').length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(rec.escalations('risk')).toHaveLength(1);
      const { viewQuery } = await import('../../src/shared/messages');
      const v = await handle.query(viewQuery);
      expect(v.risk).toBe(true);
      expect(v.riskNote).toBe('said they feel unsafe');
      // The same resubmission again raises nothing more.
      await cases.submit({ ...submission, sessions: [{ ...session, risk: { concern: true, note: 'said they feel unsafe' } }] });
      expect(rec.escalations('risk')).toHaveLength(1);
      await terminateWhenQuiet(handle);
    });
  });
});

describe('quiet hours', () => {
  /** Sleeps the test server until `hour`:`minute` UK time on the next day it comes round. */
  async function sleepUntilUk(hour: number, minute = 0): Promise<number> {
    const t = await now();
    let target = ukLocalToInstant(ukDate(t), hour) + minute * MINUTE;
    if (target <= t) target = ukLocalToInstant(ukDate(t + DAY), hour) + minute * MINUTE;
    await env.sleep(target - t);
    return target;
  }

  /** A case submitted at 21:00 UK, offered times 5 and 40 days on, its client choosing. */
  async function eveningCase(tq: string): Promise<{ evening: number; input: CaseInput; c: RunningCase }> {
    const evening = await sleepUntilUk(21);
    const input = caseInput(evening, { policy: P, session: { id: 'S-Q', startsAt: new Date(evening + 3 * DAY).toISOString() }, rebook: { slots: [new Date(evening + 5 * DAY).toISOString(), new Date(evening + 40 * DAY).toISOString()] } });
    const c = await startCase(env, tq, input);
    await c.until((v) => v.stage === 'awaiting-choice');
    return { evening, input, c };
  }

  test('W9 quiet hours: an update decided at 21:00 UK waits until 08:00, while a first notice and the answer to a client’s choice go at once', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const { evening, input, c } = await eveningCase(tq);
      expect(rec.clientMessages.map((m) => m.kind)).toEqual(['slotOffer']); // a first notice goes at once

      await c.handle.signal(absenceNewsSignal, { by: 'T-1001', expectedReturn: isoDate(evening + 30 * DAY), returned: false });
      const waiting = await c.until((v) => v.clientMessages.some((m) => m.status === 'deferred'), 'the update held back');
      const held = waiting.clientMessages.find((m) => m.status === 'deferred')!;
      expect(held.kind).toBe('absenceUpdate');
      const morning = ukLocalToInstant(ukDate(evening + DAY), 8);
      expect(Date.parse(held.sendAt!)).toBe(morning);
      expect(rec.clientMessages.map((m) => m.kind)).toEqual(['slotOffer']);

      await env.sleep(morning - (await now()) + MINUTE);
      await c.until(() => rec.clientMessages.some((m) => m.kind === 'absenceUpdate'), 'the update in the morning');

      // The client chooses at 21:30 that evening: the confirmation answers them at once.
      await sleepUntilUk(21, 30);
      await c.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot: slotsOf(input)[1]! }] });
      await c.until(() => rec.clientMessages.some((m) => m.kind === 'confirmation'), 'the confirmation at once');
    });
  });

  test('A9 W9 an update about the absence held for the morning is not sent once the therapist is back: the client chooses from the times offered again', async () => {
    const rec = new Recorder();
    await withWorker(env, rec, async (tq) => {
      const { evening, input, c } = await eveningCase(tq);
      const expectedReturn = isoDate(evening + 30 * DAY);
      await c.handle.signal(absenceNewsSignal, { by: 'T-1001', expectedReturn, returned: false });
      await c.until((v) => v.clientMessages.some((m) => m.status === 'deferred' && m.kind === 'absenceUpdate'), 'the update held back');
      // Back at 22:00, before the morning: "expected back in 30 days" is no longer true.
      const back = await reportBack(c, expectedReturn);
      await env.sleep(ukLocalToInstant(ukDate(evening + DAY), 8) - (await now()) + HOUR);
      await c.until(() => true);
      await recordHistory('a9-back-drops-held-update', c);
      expect(back.clientMessages.filter((m) => m.status === 'deferred')).toEqual([]);
      expect(rec.clientMessages.map((m) => m.kind)).toEqual(['slotOffer']);
      await c.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot: slotsOf(input)[0]! }] });
      await c.until((v) => v.bookedSlot === slotsOf(input)[0]);
    });
  });
});
