/**
 * What the case workflow counts and publishes for alerting, as pure functions of its state: the
 * escalation events between two moments (workflows/case/metrics.ts) and the EscalationsWaiting
 * search attribute (workflows/case/view.ts).
 */
import { escalationEvents, escalationMarks } from '../../workflows/case/metrics';
import type { CaseState, Escalation, Obligation } from '../../workflows/case/model';
import { escalationsWaiting } from '../../workflows/case/view';

const esc = (over: Partial<Escalation> = {}): Escalation => ({
  id: 'esc-1',
  team: 'risk',
  reason: 'risk concern',
  at: 0,
  ob: 'ob-1',
  alerts: 1,
  lastAlert: 0,
  copied: [],
  delivery: 'sending',
  ...over,
});
const ackOb = (over: Partial<Obligation> = {}): Obligation => ({
  id: 'ob-1',
  kind: 'acknowledge',
  what: 'Acknowledge',
  owner: 'risk',
  opened: 0,
  due: 3_600_000,
  chaseAt: 3_600_000,
  chases: 0,
  clientFacing: false,
  ...over,
});
const state = (escalations: Escalation[], obligations: Obligation[] = [], stage = 'awaiting-choice') =>
  ({ stage, escalations, obligations }) as unknown as CaseState;

describe('escalation events', () => {
  it('when a risk escalation appears, then it is counted opened once, for its team', () => {
    expect(escalationEvents(escalationMarks(state([])), state([esc()]))).toEqual([{ event: 'opened', team: 'risk' }]);
  });

  it('when its alert is accepted, then delivered is counted; the same state again counts nothing', () => {
    const before = escalationMarks(state([esc()]));
    const after = state([esc({ delivery: 'accepted' })]);
    expect(escalationEvents(before, after)).toEqual([{ event: 'delivered', team: 'risk' }]);
    expect(escalationEvents(escalationMarks(after), after)).toEqual([]);
  });

  it('when it is sent again unacknowledged, then late is counted once however many chases follow, and each chase delivered counts', () => {
    const first = state([esc({ delivery: 'accepted' })]);
    const chased = state([esc({ alerts: 2, delivery: 'sending' })]);
    expect(escalationEvents(escalationMarks(first), chased)).toEqual([{ event: 'late', team: 'risk' }]);
    const delivered = state([esc({ alerts: 2, delivery: 'accepted' })]);
    expect(escalationEvents(escalationMarks(chased), delivered)).toEqual([{ event: 'delivered', team: 'risk' }]);
    expect(escalationEvents(escalationMarks(delivered), state([esc({ alerts: 3 })]))).toEqual([]);
  });

  it('when risk duty acknowledges, then acknowledged is counted for the team', () => {
    const before = escalationMarks(state([esc({ team: 'network' })]));
    const after = state([esc({ team: 'network', ack: { at: 5, by: 'SUP3' } })]);
    expect(escalationEvents(before, after)).toEqual([{ event: 'acknowledged', team: 'network' }]);
  });
});

describe('EscalationsWaiting', () => {
  it('when an escalation waits within its window, then its team is listed; once chased, team-late too', () => {
    expect(escalationsWaiting(state([esc()], [ackOb()]))).toEqual(['risk']);
    expect(escalationsWaiting(state([esc()], [ackOb({ chases: 1 })]))).toEqual(['risk', 'risk-late']);
  });

  it('when it is acknowledged, or the case is finished, then nothing is listed', () => {
    expect(escalationsWaiting(state([esc({ ack: { at: 1, by: 'R1' } })], [ackOb({ chases: 2 })]))).toEqual([]);
    expect(escalationsWaiting(state([esc()], [ackOb({ chases: 1 })], 'closed'))).toEqual([]);
  });
});
