/**
 * The search attributes set at the start (issue 14: one upsert fewer for every case and every
 * absence), on a real dev server through CaseService. A case keeps the attributes its start set
 * while it is still telling the client, so its first workflow task upserts nothing; an absence
 * started by a join already lists its return and its one open case. Anything a lead must see at
 * once (a risk escalated at submission) still upserts in the first task, and a case stuck telling
 * the client still turns late by the start's deadline.
 */
import { temporal } from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import { absenceWorkflowId } from '../../src/shared/absence';
import { RECORDS } from '../../src/shared/case';
import { caseWorkflowId } from '../../src/shared/ids';
import { chooseSlotUpdate, confirmRecordUpdate } from '../../src/shared/messages';
import { DEFAULT_POLICY } from '../../src/shared/policy';
import {
  AbsenceId,
  AbsenceReturn,
  CancelledAtUnix,
  CaseStage,
  EscalatedTo,
  NextDeadline,
  NextStepOwner,
  OpenCases,
} from '../../src/shared/search-attributes';
import { lateQuery } from '../../src/ops/visibility';
import { recordHistory, Recorder } from '../workflows/harness';
import { DAY, eventually, listIds, startCluster, type Cluster } from './fixtures';

const { EventType } = temporal.api.enums.v1;
const UPSERT = EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES;

async function eventTypes(handle: WorkflowHandle): Promise<temporal.api.enums.v1.EventType[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).map((e) => e.eventType!);
}

const upserts = (types: temporal.api.enums.v1.EventType[]) => types.filter((t) => t === UPSERT).length;

describe('with the client reachable', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster();
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  test('a case started through CaseService upserts nothing in its first workflow task, and upserts every attribute once the client has been offered times', async () => {
    const id = await c.submit({ therapistId: 'T-SA-1' });
    const handle = c.client.workflow.getHandle(caseWorkflowId(id));
    await c.until(id, (v) => v.stage === 'awaiting-choice', 'slots offered');

    const types = await eventually(async () => upserts(await eventTypes(handle)), 1).then(() => eventTypes(handle));
    const offerDone = types.indexOf(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
    expect(offerDone).toBeGreaterThan(0);
    // Nothing upserted before the offer was sent (the first task only scheduled it), one upsert after.
    expect(types.slice(0, offerDone)).not.toContain(UPSERT);
    expect(upserts(types)).toBe(1);

    const attrs = (await handle.describe()).typedSearchAttributes;
    expect(attrs.get(CaseStage)).toBe('awaiting-choice');
    expect(attrs.get(NextStepOwner)).toBe('client');
    // The deadline of the earliest open duty (the records owed within a day come before the choice).
    const view = await c.view(id);
    const open = view.duties.filter((d) => !d.metAt).map((d) => Date.parse(d.deadline));
    expect(view.duties.some((d) => d.kind === 'choose' && !d.metAt)).toBe(true);
    expect(attrs.get(NextDeadline)?.getTime()).toBe(Math.min(...open));

    // The rest of the happy path, kept as a replay history of a case started this way.
    await handle.executeUpdate(chooseSlotUpdate, { args: [{ slot: view.offeredSlots[0]! }] });
    for (const record of RECORDS) await handle.executeUpdate(confirmRecordUpdate, { args: [{ record, by: 'T-SA-1' }] });
    await handle.result();
    expect((await handle.describe()).typedSearchAttributes.get(CaseStage)).toBe('completed');
    await recordHistory('w1-attributes-set-at-start', { handle });
  });

  test('a risk concern recorded at submission is escalated and shown in the first workflow task, before the client is told', async () => {
    const id = await c.submit({ therapistId: 'T-SA-2', risk: true });
    const handle = c.client.workflow.getHandle(caseWorkflowId(id));
    await c.until(id, (v) => v.stage === 'awaiting-choice' && v.escalations.length > 0, 'risk escalated, slots offered');

    const types = await eventTypes(handle);
    const firstUpsert = types.indexOf(UPSERT);
    expect(firstUpsert).toBeGreaterThan(0);
    expect(firstUpsert).toBeLessThan(types.indexOf(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED));
    expect((await handle.describe()).typedSearchAttributes.get(EscalatedTo)).toContain('risk');
  });

  test('an absence started by a join lists its return and one open case without an upsert, and upserts when a second case joins', async () => {
    // Back tomorrow: before the times offered (from five days on), so they stay on offer.
    const back = new Date(Date.now() + DAY).toISOString().slice(0, 10);
    const first = await c.submit({ therapistId: 'T-SA-3', expectedReturn: back });
    await c.until(first, (v) => v.stage === 'awaiting-choice', 'first case offered slots');
    const absenceId = (await c.client.workflow.getHandle(caseWorkflowId(first)).describe()).typedSearchAttributes.get(AbsenceId)!;
    const absence = c.client.workflow.getHandle(absenceWorkflowId(absenceId));

    const started = await absence.describe();
    expect(started.typedSearchAttributes.get(OpenCases)).toBe(1);
    expect(started.typedSearchAttributes.get(AbsenceReturn)).toBe(back);
    // Its first task (the start and the join) has completed, and upserted nothing.
    expect(await eventually(async () => (await eventTypes(absence)).includes(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED), true)).toBe(true);
    expect(upserts(await eventTypes(absence))).toBe(0);

    const second = await c.submit({ therapistId: 'T-SA-3', expectedReturn: back });
    await c.until(second, (v) => v.stage === 'awaiting-choice', 'second case offered slots');
    expect(await eventually(async () => (await absence.describe()).typedSearchAttributes.get(OpenCases), 2)).toBe(2);
    expect(upserts(await eventTypes(absence))).toBe(1);
    await recordHistory('absence-open-at-start', { handle: absence });
  });
});

describe('with the client channel down', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster({ recorder: new Recorder({ client: 'down' }) });
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  test('a case stuck telling the client keeps the start\'s deadline, contactWithinMs after submission, and turns late by it', async () => {
    const id = await c.submit({ therapistId: 'T-SA-4' });
    const handle = c.client.workflow.getHandle(caseWorkflowId(id));
    // The first attempt at the offer has failed; the next waits for the retry.
    expect(await eventually(async () => ((await handle.describe()).raw.pendingActivities?.[0]?.lastFailure ? 'failed once' : 'not yet'), 'failed once')).toBe('failed once');

    expect((await c.view(id)).stage).toBe('contacting');
    const attrs = (await handle.describe()).typedSearchAttributes;
    expect(attrs.get(CaseStage)).toBe('contacting');
    expect(attrs.get(NextStepOwner)).toBeUndefined();
    const submittedAt = attrs.get(CancelledAtUnix)! * 1000;
    const due = attrs.get(NextDeadline)!.getTime();
    expect(due - submittedAt).toBeGreaterThanOrEqual(DEFAULT_POLICY.contactWithinMs);
    expect(due - submittedAt).toBeLessThan(DEFAULT_POLICY.contactWithinMs + 1000);
    expect(upserts(await eventTypes(handle))).toBe(0);

    // Not late now; late to a lead looking a minute after that deadline.
    const wf = caseWorkflowId(id);
    const onTime = { lateMarginMs: 0, escalationAckWindowMs: DEFAULT_POLICY.escalationAckWindowMs };
    expect(await eventually(async () => (await listIds(c.client, lateQuery(onTime, due + 60_000))).includes(wf), true)).toBe(true);
    expect(await listIds(c.client, lateQuery(onTime, Date.now()))).not.toContain(wf);
  });
});
