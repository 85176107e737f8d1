/**
 * The invariants themselves can fail: each one, given a step that breaks it, says so. Without
 * this, a checker with a bug would let the property test pass whatever the core did.
 */
import { DEFAULT_POLICY } from '../../src/shared/policy';
import { apply, initialState } from '../../workflows/case/core';
import type { CaseState, Command, Escalation, Obligation } from '../../workflows/case/model';
import { SESSION_START_INVARIANT, STEP_INVARIANTS, toldBySessionStart } from './invariants';
import { DAY, HOUR, MINUTE, type Applied } from './world';

const t0 = Date.parse('2026-06-10T10:00:00Z'); // a Wednesday, 11:00 in London (BST)
const input = {
  caseId: 'cm0000000000000000005',
  absenceId: 'a',
  siblingCaseIds: [],
  submittedAt: new Date(t0).toISOString(),
  therapist: { id: 'T-1', name: 'Alex', email: 'alex@example.org' },
  reason: 'illness' as const,
  session: { id: 'S-1', startsAt: new Date(t0 + DAY).toISOString() },
  client: { ref: 'C-1', firstName: 'Sam', preferredContact: 'email' as const, email: 'sam@example.org' },
  rebook: { slots: [new Date(t0 + 3 * DAY).toISOString()] },
  policy: DEFAULT_POLICY,
  recordsMode: 'attestation' as const,
};

function started(over: Partial<typeof input> = {}): CaseState {
  const s = initialState({ ...input, ...over });
  apply(s, { type: 'start' }, t0, DEFAULT_POLICY);
  return s;
}

const step = (before: CaseState, commands: Command[] = [], event: Applied['event'] = { type: 'tick' }, at = t0): Applied => ({ event, before, commands, at });
const named = (name: string) => STEP_INVARIANTS.find((i) => i.name.startsWith(name))!;
const riskEsc = (over: Partial<Escalation> = {}): Escalation => ({ id: 'esc-1', team: 'risk', reason: 'r', at: t0, ob: 'ob-x', alerts: 1, lastAlert: t0, copied: [], delivery: 'accepted', ...over });
const ob = (over: Partial<Obligation> = {}): Obligation => ({ id: 'ob-x', kind: 'phone', what: 'Phone the client', owner: 'support', opened: t0, due: t0 + HOUR, chaseAt: t0 + HOUR, chases: 0, clientFacing: true, ...over });

describe('each safety invariant reports a step that breaks it', () => {
  test('an open obligation whose timer has already passed', () => {
    const s = started();
    s.obligations[0]!.chaseAt = t0 - 1;
    expect(named('every open obligation').check(step(s), s, DEFAULT_POLICY)).toMatch(/no timer/);
  });

  test('a risk concern at the start with no alert in the same task', () => {
    const s = started({ risk: { concern: true } } as never);
    expect(named('every risk concern').check(step(initialState(s.input), [], { type: 'start' }), s, DEFAULT_POLICY)).toMatch(/no alert/);
  });

  test('a risk alert cleared by support staff', () => {
    const before = started();
    before.escalations.push(riskEsc());
    const after: CaseState = { ...before, escalations: [riskEsc({ ack: { at: t0, by: 'S-1' } })] };
    const e = { type: 'acknowledge' as const, by: 'S-1', role: 'escalation-team' as const, team: 'support' as const, escalationId: 'esc-1' };
    expect(named('a risk alert stays open').check(step(before, [], e), after, DEFAULT_POLICY)).toMatch(/cleared/);
  });

  test('a case complete with a risk alert unacknowledged', () => {
    const s = started();
    s.escalations.push(riskEsc());
    s.stage = 'completed';
    expect(named('no case completes').check(step(s), s, DEFAULT_POLICY)).toMatch(/unacknowledged/);
  });

  test('an update to the client at 22:00 in London', () => {
    const s = started();
    const night = Date.parse('2026-06-10T21:00:00Z');
    s.messages.push({ key: 'client-absenceUpdate-9', to: 'client', kind: 'absenceUpdate', label: 'update', status: 'sending', at: night, purpose: 'update' });
    const cmd = { type: 'notifyClient', key: 'client-absenceUpdate-9', label: 'update', notice: { kind: 'absenceUpdate' } } as unknown as Command;
    expect(named('no client message between').check(step(s, [cmd], { type: 'tick' }, night), s, DEFAULT_POLICY)).toMatch(/quiet hours/);
  });

  test('A9 news that the therapist is back, taken after the moved date it carries (the rule before the return-first patch)', () => {
    const s = started();
    const [slot] = s.offeredSlots;
    apply(s, { type: 'chooseSlot', slot: slot! }, t0 + MINUTE, DEFAULT_POLICY);
    const before = structuredClone(s);
    const e = { type: 'absence' as const, news: { expectedReturn: new Date(Date.parse(slot!) + 2 * DAY).toISOString().slice(0, 10), returned: true } };
    const commands = apply(s, e, t0 + 2 * MINUTE, DEFAULT_POLICY);
    expect(named('news that the therapist is back').check(step(before, commands, e), s, DEFAULT_POLICY)).toBeUndefined();
    const legacy = structuredClone(before);
    const legacyEvent = { ...e, dateBeforeReturn: true };
    const legacyCommands = apply(legacy, legacyEvent, t0 + 2 * MINUTE, DEFAULT_POLICY);
    // The invariant names the old rule's harm; it leaves histories replayed under that rule alone.
    expect(named('news that the therapist is back').check(step(before, legacyCommands, { ...e }), legacy, DEFAULT_POLICY)).toMatch(/withdrew the booking/);
    expect(named('news that the therapist is back').check(step(before, legacyCommands, legacyEvent), legacy, DEFAULT_POLICY)).toBeUndefined();
  });

  test('A9 W9 an overrun that reaches the case after the therapist is back (the rule before the overrun-after-return patch)', () => {
    const s = started();
    const away = new Date(t0 + 2 * DAY).toISOString().slice(0, 10);
    apply(s, { type: 'absence', news: { expectedReturn: away, returned: false } }, t0 + MINUTE, DEFAULT_POLICY);
    apply(s, { type: 'absence', news: { expectedReturn: away, returned: true } }, t0 + 2 * MINUTE, DEFAULT_POLICY);
    const before = structuredClone(s);
    const e = { type: 'absenceOverrun' as const };
    const commands = apply(s, e, t0 + 3 * MINUTE, DEFAULT_POLICY);
    expect(commands).toEqual([]);
    expect(named('an overrun that reaches the case after').check(step(before, commands, e), s, DEFAULT_POLICY)).toBeUndefined();
    const legacy = structuredClone(before);
    const legacyEvent = { ...e, sendAfterReturn: true };
    const legacyCommands = apply(legacy, legacyEvent, t0 + 3 * MINUTE, DEFAULT_POLICY);
    // The old rule told the client there was no date yet.
    expect(named('an overrun that reaches the case after').check(step(before, legacyCommands, e), legacy, DEFAULT_POLICY)).toMatch(/sent the client a message/);
    expect(named('an overrun that reaches the case after').check(step(before, legacyCommands, legacyEvent), legacy, DEFAULT_POLICY)).toBeUndefined();
  });

  test('a call task allowing voicemail the client did not choose', () => {
    const s = started({ client: { ...input.client, preferredContact: 'phone' } } as never);
    const cmd = { type: 'notifyTherapist', key: 'k', label: 'l', notice: { contact: { voicemailAllowed: true } } } as unknown as Command;
    expect(named('voicemail only').check(step(s, [cmd]), s, DEFAULT_POLICY)).toMatch(/voicemail/);
  });

  test('a message to the client of a closed case', () => {
    const s = started();
    s.stage = 'closed';
    const cmd = { type: 'notifyClient', key: 'k', label: 'l', notice: {} } as unknown as Command;
    expect(named('no client message after closure').check(step(s, [cmd]), s, DEFAULT_POLICY)).toMatch(/closed/);
  });

  test('a booking before the expected return', () => {
    const s = started();
    s.expectedReturn = '2026-06-20';
    s.bookedSlot = '2026-06-15T10:00:00.000Z';
    expect(named('no booked slot').check(step(s), s, DEFAULT_POLICY)).toMatch(/before the return/);
  });

  test('records owed with nobody owning them', () => {
    const s = started();
    s.obligations = s.obligations.filter((o) => o.kind !== 'records');
    expect(named('documentation for every').check(step(s), s, DEFAULT_POLICY)).toMatch(/neither confirmed nor owned/);
  });

  test('a timeline grown past its bound', () => {
    const s = started();
    for (let i = 0; i < 200; i++) s.timeline.push({ at: '', kind: 'event', text: 'x' });
    expect(named("the case's state stays bounded").check(step(s), s, DEFAULT_POLICY)).toMatch(/timeline/);
  });

  test(`${SESSION_START_INVARIANT}: not when nobody is due to reach an untold client`, () => {
    const s = started();
    expect(toldBySessionStart(s, t0 + DAY)).toMatch(/not told/);
    s.obligations.push(ob({ due: t0 + DAY }));
    expect(toldBySessionStart(s, t0 + DAY)).toBeUndefined();
  });
});
