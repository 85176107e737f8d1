/**
 * The absence core on its own, for the cases the property test found: pure, no Temporal.
 */
import type { AbsenceInput, AbsenceJoin } from '../../src/shared/absence';
import { applyAbsence, initialAbsence, type AbsenceCommand } from '../../workflows/absence/core';
import { DAY, DEFAULT_POLICY } from './world';

const T0 = Date.UTC(2026, 10, 2, 9);
const input: AbsenceInput = { absenceId: 'a-core', therapist: { id: 'T-1', name: 'Alex', email: 'alex@example.org' }, policy: DEFAULT_POLICY, openedAt: new Date(T0).toISOString() };
const join = (caseId: string, expectedReturn?: string): AbsenceJoin => ({
  caseId,
  sessionStartsAt: new Date(T0 + DAY).toISOString(),
  submittedAt: new Date(T0).toISOString(),
  ...(expectedReturn ? { expectedReturn } : {}),
  client: { ref: `C-${caseId}`, firstName: 'Sam', preferredContact: 'email', email: 'sam@example.org' },
  recordsMode: 'attestation',
});
const newsFor = (commands: AbsenceCommand[]) => commands.flatMap((c) => (c.type === 'news' ? [c.caseId] : []));

describe('a return first given by a later submission', () => {
  test('A1 A3 reaches the cases already joined, whose bookings inside it are withdrawn, and the provider hears once', () => {
    const s = initialAbsence(input);
    // Monday: no return date yet; the client books a time twelve days on.
    expect(applyAbsence(s, { type: 'join', join: join('c1') }, T0, DEFAULT_POLICY).filter((c) => c.type === 'notifyProvider')).toEqual([]);
    const booked = new Date(T0 + 12 * DAY).toISOString();
    applyAbsence(s, { type: 'caseReport', report: { caseId: 'c1', stage: 'awaiting-documentation', open: true, bookedSlot: booked } }, T0 + 1000, DEFAULT_POLICY);
    // Wednesday: a sick note to the 20th.
    const commands = applyAbsence(s, { type: 'join', join: join('c2', '2026-11-20') }, T0 + 2 * DAY, DEFAULT_POLICY);
    expect(newsFor(commands)).toContain('c1');
    expect(commands.find((c) => c.type === 'news' && c.caseId === 'c1')).toMatchObject({ news: { expectedReturn: '2026-11-20' } });
    expect(commands.filter((c) => c.type === 'notifyProvider')).toEqual([expect.objectContaining({ notice: expect.objectContaining({ kind: 'absenceStarted', expectedReturn: '2026-11-20' }) })]);
  });

  test('A1 A3 a finished case booked inside it gets a follow-on case', () => {
    const s = initialAbsence(input);
    applyAbsence(s, { type: 'join', join: join('c1') }, T0, DEFAULT_POLICY);
    applyAbsence(s, { type: 'caseReport', report: { caseId: 'c1', stage: 'completed', open: false, bookedSlot: new Date(T0 + 12 * DAY).toISOString() } }, T0 + 1000, DEFAULT_POLICY);
    const commands = applyAbsence(s, { type: 'join', join: join('c2', '2026-11-20') }, T0 + 2 * DAY, DEFAULT_POLICY);
    expect(commands.filter((c) => c.type === 'startCase')).toHaveLength(1);
  });
});

describe('a provider notice that cannot be sent', () => {
  test('A7 becomes a duty for support with a deadline, chased to the network team when missed, and the provider is not emailed again for the same change', () => {
    const s = initialAbsence(input);
    const started = applyAbsence(s, { type: 'join', join: join('c1', '2026-11-20') }, T0, DEFAULT_POLICY);
    const notice = started.find((c) => c.type === 'notifyProvider');
    expect(notice).toBeDefined();
    const failed = applyAbsence(s, { type: 'sendFailed', key: notice!.key, reason: 'ChannelRejected' }, T0 + 1000, DEFAULT_POLICY);
    expect(s.duties).toHaveLength(1);
    const duty = s.duties[0]!;
    expect(duty.due).toBe(T0 + 1000 + DEFAULT_POLICY.followUpWindowMs);
    expect(failed).toEqual([expect.objectContaining({ type: 'escalate', notice: expect.objectContaining({ team: 'support', deadline: new Date(duty.due).toISOString() }) })]);
    // A second session of the same absence and return: no second provider email.
    const again = applyAbsence(s, { type: 'join', join: join('c2', '2026-11-20') }, T0 + 2000, DEFAULT_POLICY);
    expect(again.filter((c) => c.type === 'notifyProvider')).toEqual([]);
    // Support misses the deadline: the network team hears.
    const chased = applyAbsence(s, { type: 'tick' }, duty.due + 1, DEFAULT_POLICY);
    expect(chased).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'escalate', notice: expect.objectContaining({ team: 'network' }) })]));
    expect(s.duties[0]!.chases).toBe(1);
  });
});
