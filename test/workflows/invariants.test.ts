/**
 * Property test: random sequences of events (choices, rebookings, absence updates, timeouts,
 * channel failures, risk flags, records, closures) against the real workflow on the
 * time-skipping server, checking the safety invariants after every step.
 */
import fc from 'fast-check';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTimeSkippingEnv } from '../helpers/temporal';
import type { ContactMethod } from '../../src/shared/api';
import type { CaseView } from '../../src/shared/case';
import {
  chooseSlotUpdate,
  closeCaseUpdate,
  confirmRecordUpdate,
  raiseRiskUpdate,
  recordPhoneOutcomeUpdate,
  recordRebookingUpdate,
  reportAbsenceUpdate,
  reportRecordsUnavailableUpdate,
  reportUnhappyUpdate,
  requestCallUpdate,
} from '../../src/shared/messages';
import { caseInput, DAY, HOUR, Recorder, startCase, withWorker } from './harness';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
}, 180_000);
afterAll(async () => {
  await env?.teardown();
});

type Event =
  | { t: 'sleep'; hours: number }
  | { t: 'choose'; index: number }
  | { t: 'requestCall' }
  | { t: 'rebook'; days: number }
  | { t: 'phone'; reached: boolean; days: number }
  | { t: 'absence'; days: number }
  | { t: 'risk'; source: 'client' | 'therapist' }
  | { t: 'unhappy' }
  | { t: 'record'; which: 'attendance' | 'clinicalNote' | 'nextSession' }
  | { t: 'recordsDown' }
  | { t: 'close' };

const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('sleep' as const), hours: fc.integer({ min: 1, max: 96 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('choose' as const), index: fc.integer({ min: 0, max: 2 }) }) },
  fc.constant({ t: 'requestCall' as const }),
  fc.record({ t: fc.constant('rebook' as const), days: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ t: fc.constant('phone' as const), reached: fc.boolean(), days: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ t: fc.constant('absence' as const), days: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ t: fc.constant('risk' as const), source: fc.constantFrom('client' as const, 'therapist' as const) }),
  fc.constant({ t: 'unhappy' as const }),
  { weight: 3, arbitrary: fc.record({ t: fc.constant('record' as const), which: fc.constantFrom('attendance' as const, 'clinicalNote' as const, 'nextSession' as const) }) },
  fc.constant({ t: 'recordsDown' as const }),
  { weight: 1, arbitrary: fc.constant({ t: 'close' as const }) },
);

const scenario = fc.record({
  contact: fc.constantFrom<ContactMethod>('email', 'sms', 'phone', 'voicemail'),
  channel: fc.constantFrom<'ok' | 'rejected'>('ok', 'ok', 'ok', 'rejected'),
  callback: fc.boolean(),
  riskAtStart: fc.boolean(),
  events: fc.array(event, { minLength: 1, maxLength: 12 }),
});

function checkInvariants(v: CaseView, riskRaised: number, riskAlerts: number): void {
  const open = v.stage !== 'completed' && v.stage !== 'closed';
  if (open) {
    // Every open case has someone on the hook, by a stated time.
    const duties = v.duties.filter((d) => !d.metAt);
    expect(duties.length).toBeGreaterThanOrEqual(1);
    for (const d of duties) {
      expect(Number.isNaN(Date.parse(d.deadline))).toBe(false);
      expect(d.owner).toEqual(expect.any(String));
    }
  }
  // Every risk flag reached risk duty.
  expect(riskAlerts).toBeGreaterThanOrEqual(riskRaised);
  // Nothing completes without a rebooking and the records, except a lead's closure.
  if (v.stage === 'completed') {
    expect(v.bookedSlot).toBeDefined();
    expect(Object.values(v.records).every((r) => r.done)).toBe(true);
  }
  if (v.stage === 'closed') expect(v.closed?.by).toBe('LEAD-1');
}

async function attempt(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return true;
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) return false; // refused by a validator: allowed
    throw e;
  }
}

test('random event sequences keep every case owned, every risk alerted, and no case completed without rebooking and records or a closure', async () => {
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const rec = new Recorder({ client: s.channel });
      await withWorker(env, rec, async (tq) => {
        const t = await env.currentTimeMs();
        const input = caseInput(t, {
          client: { ref: 'C-1', firstName: 'Sam', preferredContact: s.contact, email: 'sam@example.org', phone: '+447700900123' },
          rebook: s.callback ? { callbackBy: new Date(t + 3 * DAY).toISOString() } : { slots: [4, 5, 6].map((d) => new Date(t + d * DAY).toISOString()) },
          risk: s.riskAtStart ? { concern: true } : undefined,
          expectedReturn: new Date(t + 2 * DAY).toISOString().slice(0, 10),
        });
        const c = await startCase(env, tq, input);
        let riskRaised = s.riskAtStart ? 1 : 0;
        let v = await c.until((x) => x.stage !== 'contacting', 'first contact');
        checkInvariants(v, riskRaised, rec.escalations('risk').length);
        for (const e of s.events) {
          const now = await env.currentTimeMs();
          if (v.stage === 'completed' || v.stage === 'closed') break;
          switch (e.t) {
            case 'sleep':
              await env.sleep(e.hours * HOUR);
              break;
            case 'choose':
              await attempt(c.handle.executeUpdate(chooseSlotUpdate, { args: [{ slot: v.offeredSlots[e.index] ?? input.session.startsAt }] }));
              break;
            case 'requestCall':
              await attempt(c.handle.executeUpdate(requestCallUpdate, { args: [] }));
              break;
            case 'rebook':
              await attempt(c.handle.executeUpdate(recordRebookingUpdate, { args: [{ by: 'T-1001', slot: new Date(now + e.days * DAY).toISOString() }] }));
              break;
            case 'phone':
              await attempt(c.handle.executeUpdate(recordPhoneOutcomeUpdate, { args: [{ by: 'T-1001', reached: e.reached, rebookedSlot: e.reached ? new Date(now + e.days * DAY).toISOString() : undefined }] }));
              break;
            case 'absence':
              await attempt(c.handle.executeUpdate(reportAbsenceUpdate, { args: [{ by: 'T-1001', expectedReturn: new Date(now + e.days * DAY).toISOString().slice(0, 10) }] }));
              break;
            case 'risk':
              if (await attempt(c.handle.executeUpdate(raiseRiskUpdate, { args: [{ by: e.source === 'client' ? 'client' : 'T-1001', source: e.source }] }))) riskRaised++;
              break;
            case 'unhappy':
              await attempt(c.handle.executeUpdate(reportUnhappyUpdate, { args: [{ by: 'client', source: 'client', cannotWait: true }] }));
              break;
            case 'record':
              await attempt(c.handle.executeUpdate(confirmRecordUpdate, { args: [{ by: 'T-1001', record: e.which }] }));
              break;
            case 'recordsDown':
              await attempt(c.handle.executeUpdate(reportRecordsUnavailableUpdate, { args: [{ by: 'T-1001' }] }));
              break;
            case 'close':
              await attempt(c.handle.executeUpdate(closeCaseUpdate, { args: [{ by: 'LEAD-1', reason: 'other' }] }));
              break;
          }
          v = await c.until(() => true);
          checkInvariants(v, riskRaised, rec.escalations('risk').length);
        }
      });
    }),
    { numRuns: 25, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31), verbose: true },
  );
}, 600_000);
