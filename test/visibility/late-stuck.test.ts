/**
 * Late and stuck cases on a real dev server: cases in several stages, some with second-long
 * policy windows so their deadlines pass and escalations fire while the test waits. The
 * visibility queries and `npm run stuck` must return exactly the late and stuck ones.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { caseWorkflowId } from '../../src/shared/ids';
import { closeCaseUpdate } from '../../src/shared/messages';
import { DEFAULT_POLICY } from '../../src/shared/policy';
import { NextDeadline, UnackedEscalationSince } from '../../src/shared/search-attributes';
import { findLateAndStuck } from '../../src/ops/stuck';
import {
  escalatedToQuery,
  lateOrStuckQuery,
  lateQuery,
  OPEN_CASES,
  RISK_QUERY,
  savedViews,
  stageQuery,
  standing,
  stuckQuery,
  therapistQuery,
  UNACKNOWLEDGED_QUERY,
  type Thresholds,
} from '../../src/ops/visibility';
import { acknowledgeAll, CLOSE_WAIVER, DAY, eventually, FAST_POLICY, listAll, listIds, startCluster, type Cluster } from './fixtures';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const UI = 'http://temporal-ui.example.test:8233';
/** An age as the table prints it, a few seconds or minutes old. */
const AGE = String.raw`\d+ (?:s|min)`;

/** Late as soon as a deadline passes; stuck after an escalation waits a second. */
const QUICK: Thresholds = { lateMarginMs: 0, escalationAckWindowMs: 1000 };
const HOUR_MARGINS: Thresholds = { lateMarginMs: 3600_000, escalationAckWindowMs: 3600_000 };

let c: Cluster;
const ids = {} as Record<'waiting' | 'callback' | 'phone' | 'lateAndStuck' | 'lateOnly' | 'stuckOnly' | 'closedLate', string>;
const wf = (k: keyof typeof ids) => caseWorkflowId(ids[k]);
const sorted = (...keys: (keyof typeof ids)[]) => keys.map(wf).sort();
const handle = (k: keyof typeof ids) => c.client.workflow.getHandle(wf(k));

beforeAll(async () => {
  c = await startCluster();
  const escalated = (v: { escalations: unknown[] }) => v.escalations.length > 0;

  // Nothing due: waiting on the client, a callback tomorrow, a phone call before the session.
  ids.waiting = await c.submit({});
  ids.callback = await c.submit({ contact: 'sms', callbackBy: Date.now() + DAY, therapistId: 'T-2002' });
  ids.phone = await c.submit({ contact: 'phone' });
  // A risk concern escalates at once; its deadline is days away.
  ids.stuckOnly = await c.submit({ risk: true });
  // Second-long windows: the client does not choose, the therapist does not follow up, the case
  // escalates to the network team and its follow-up deadline stays in the past.
  ids.lateAndStuck = await c.submit({}, FAST_POLICY);
  ids.lateOnly = await c.submit({}, FAST_POLICY);
  ids.closedLate = await c.submit({}, FAST_POLICY);

  await c.until(ids.waiting, (v) => v.stage === 'awaiting-choice', 'waiting case offered slots');
  await c.until(ids.callback, (v) => v.stage === 'awaiting-callback', 'callback promised');
  await c.until(ids.phone, (v) => v.stage === 'awaiting-phone-outcome', 'phone task');
  await c.until(ids.stuckOnly, (v) => v.stage === 'awaiting-choice' && escalated(v), 'risk escalation');
  for (const k of ['lateAndStuck', 'lateOnly', 'closedLate'] as const) {
    await c.until(ids[k], (v) => v.stage === 'awaiting-follow-up' && escalated(v), `${k}: follow-up deadline missed`);
  }

  // The escalation was waiting for acknowledgement until a lead acknowledged it.
  const before = await handle('lateOnly').describe();
  expect(before.typedSearchAttributes.get(UnackedEscalationSince)).toBeInstanceOf(Date);
  await acknowledgeAll(handle('lateOnly'));
  await handle('closedLate').executeUpdate(closeCaseUpdate, { args: [{ by: 'Lead Jo', reason: 'handed-over', ...CLOSE_WAIVER }] });
  await handle('closedLate').result();
}, 180_000);

afterAll(async () => {
  await c?.stop();
});

describe('late and stuck queries', () => {
  it('when deadlines have passed and escalations wait, then the late query returns exactly the running cases past their deadline', async () => {
    expect(await eventually(() => listIds(c.client, lateQuery(QUICK, Date.now())), sorted('lateAndStuck', 'lateOnly'))).toEqual(
      sorted('lateAndStuck', 'lateOnly'),
    );
  });

  it('when an escalation waits longer than the window, then the stuck query returns exactly those cases, and not an acknowledged one', async () => {
    expect(await eventually(() => listIds(c.client, stuckQuery(QUICK, Date.now())), sorted('lateAndStuck', 'stuckOnly'))).toEqual(
      sorted('lateAndStuck', 'stuckOnly'),
    );
    const acked = await handle('lateOnly').describe();
    expect(acked.typedSearchAttributes.get(UnackedEscalationSince)).toBeUndefined();
  });

  it('when late or stuck are asked together, then each case appears once', async () => {
    const expected = sorted('lateAndStuck', 'lateOnly', 'stuckOnly');
    expect(await eventually(() => listIds(c.client, lateOrStuckQuery(QUICK, Date.now())), expected)).toEqual(expected);
  });

  it('when the cutoff is written to the second, as the README shows it, then the server reads it the same way', async () => {
    await eventually(() => listIds(c.client, lateQuery(QUICK, Date.now())), sorted('lateAndStuck', 'lateOnly'));
    const nextSecond = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000).toISOString().replace('.000Z', 'Z');
    const query = `${OPEN_CASES} AND NextDeadline < '${nextSecond}'`;
    expect(query).toMatch(/'\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z'$/);
    expect(await listIds(c.client, query)).toEqual(sorted('lateAndStuck', 'lateOnly'));
  });

  it('when the margins are an hour, then cases a few seconds past their deadline or escalation are neither late nor stuck', async () => {
    await eventually(() => listIds(c.client, lateQuery(QUICK, Date.now())), sorted('lateAndStuck', 'lateOnly'));
    expect(await listIds(c.client, lateOrStuckQuery(HOUR_MARGINS, Date.now()))).toEqual([]);
  });

  it('when "now" sits exactly on the cutoff, then the server and standing() agree to the millisecond', async () => {
    const attrs = (await handle('lateAndStuck').describe()).typedSearchAttributes;
    const deadline = attrs.get(NextDeadline)!.getTime();
    const raised = attrs.get(UnackedEscalationSince)!.getTime();
    const margin = { lateMarginMs: 5000, escalationAckWindowMs: 7000 };
    await eventually(() => listIds(c.client, lateQuery(QUICK, Date.now())), sorted('lateAndStuck', 'lateOnly'));

    expect(await listIds(c.client, lateQuery(margin, deadline + 5000))).not.toContain(wf('lateAndStuck'));
    expect(await listIds(c.client, lateQuery(margin, deadline + 5001))).toContain(wf('lateAndStuck'));
    expect(await listIds(c.client, stuckQuery(margin, raised + 7000))).not.toContain(wf('lateAndStuck'));
    expect(await listIds(c.client, stuckQuery(margin, raised + 7001))).toContain(wf('lateAndStuck'));
    expect(standing({ nextDeadline: new Date(deadline) }, margin, deadline + 5000).late).toBe(false);
    expect(standing({ nextDeadline: new Date(deadline) }, margin, deadline + 5001).late).toBe(true);
  });

  it('when every open case is classified by standing(), then it matches what the queries returned', async () => {
    const now = Date.now();
    await eventually(() => listIds(c.client, lateOrStuckQuery(QUICK, now)), sorted('lateAndStuck', 'lateOnly', 'stuckOnly'));
    const late = await listIds(c.client, lateQuery(QUICK, now));
    const stuck = await listIds(c.client, stuckQuery(QUICK, now));
    const open = await listAll(c.client, OPEN_CASES);
    expect(open).toHaveLength(6);
    for (const w of open) {
      const s = standing(
        { nextDeadline: w.typedSearchAttributes.get(NextDeadline), unackedEscalationSince: w.typedSearchAttributes.get(UnackedEscalationSince) },
        QUICK,
        now,
      );
      expect({ id: w.workflowId, late: s.late, stuck: s.stuck }).toEqual({ id: w.workflowId, late: late.includes(w.workflowId), stuck: stuck.includes(w.workflowId) });
    }
  });

  it('when findLateAndStuck lists cases, then each row says whether it is late, stuck or both', async () => {
    await eventually(() => listIds(c.client, lateOrStuckQuery(QUICK, Date.now())), sorted('lateAndStuck', 'lateOnly', 'stuckOnly'));
    const rows = await findLateAndStuck(c.client, QUICK, new Date());
    const byId = Object.fromEntries(rows.map((r) => [r.workflowId, r]));
    expect(Object.keys(byId).sort()).toEqual(sorted('lateAndStuck', 'lateOnly', 'stuckOnly'));
    expect(byId[wf('lateAndStuck')]).toMatchObject({ caseId: ids.lateAndStuck, stage: 'awaiting-follow-up', late: true, stuck: true, escalatedTo: ['network'] });
    expect(byId[wf('lateOnly')]).toMatchObject({ stage: 'awaiting-follow-up', late: true, stuck: false, escalatedTo: ['network'] });
    expect(byId[wf('stuckOnly')]).toMatchObject({ stage: 'awaiting-choice', late: false, stuck: true, escalatedTo: ['risk'] });
  });
});

describe('filters for saved views', () => {
  it('when filtering by stage, then each stage lists exactly its cases (a closed case only under "closed")', async () => {
    const expected = {
      contacting: [],
      'awaiting-choice': sorted('waiting', 'stuckOnly'),
      'awaiting-callback': sorted('callback'),
      'awaiting-phone-outcome': sorted('phone'),
      'awaiting-follow-up': sorted('lateAndStuck', 'lateOnly'),
      'awaiting-documentation': [],
      completed: [],
      closed: sorted('closedLate'),
    };
    const read = async () => {
      const got: Record<string, string[]> = {};
      for (const stage of Object.keys(expected) as (keyof typeof expected)[]) got[stage] = await listIds(c.client, stageQuery(stage));
      return got;
    };
    expect(await eventually(read, expected)).toEqual(expected);
  });

  it('when using the other saved filters, then they find escalations, risk and a therapist’s cases', async () => {
    expect(await eventually(() => listIds(c.client, UNACKNOWLEDGED_QUERY), sorted('lateAndStuck', 'stuckOnly'))).toEqual(sorted('lateAndStuck', 'stuckOnly'));
    expect(await listIds(c.client, RISK_QUERY)).toEqual(sorted('stuckOnly'));
    expect(await listIds(c.client, escalatedToQuery('network'))).toEqual(sorted('lateAndStuck', 'lateOnly'));
    expect(await listIds(c.client, escalatedToQuery('risk'))).toEqual(sorted('stuckOnly'));
    expect(await listIds(c.client, therapistQuery('T-2002'))).toEqual(sorted('callback'));
  });

  it('when every documented saved view is run, then the server accepts it', async () => {
    for (const view of savedViews()) {
      await expect(listIds(c.client, view.query)).resolves.toEqual(expect.any(Array));
    }
  });
});

describe('npm run stuck', () => {
  const cli = (policy: Thresholds) =>
    run(process.execPath, [require.resolve('tsx/cli'), path.join('src', 'ops', 'stuck.ts')], {
      cwd: ROOT,
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        TEMPORAL_ADDRESS: c.env.address,
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_UI_URL: UI,
        POLICY_JSON: JSON.stringify({ ...DEFAULT_POLICY, ...policy }),
      },
    });

  it('when run, then it prints exactly the late and stuck cases, each with its Web UI link, and exits 0', async () => {
    await eventually(() => listIds(c.client, lateOrStuckQuery(QUICK, Date.now())), sorted('lateAndStuck', 'lateOnly', 'stuckOnly'));
    const { stdout } = await cli(QUICK);
    const rows = stdout.split('\n').filter((l) => l.includes('/workflows/cancellation-'));
    const row = (k: keyof typeof ids) => rows.find((l) => l.startsWith(`${ids[k]} `));

    expect(rows).toHaveLength(3);
    expect(row('lateAndStuck')).toMatch(new RegExp(`awaiting-follow-up .*network .*LATE ${AGE}, STUCK ${AGE}  `));
    expect(row('lateOnly')).toMatch(new RegExp(`awaiting-follow-up .*LATE ${AGE}  `));
    expect(row('lateOnly')).not.toMatch(/STUCK/);
    expect(row('stuckOnly')).toMatch(new RegExp(`awaiting-choice .*risk .*STUCK ${AGE}  `));
    expect(row('stuckOnly')).not.toMatch(/LATE/);
    for (const k of ['lateAndStuck', 'lateOnly', 'stuckOnly'] as const) {
      expect(row(k)).toMatch(new RegExp(`  ${UI}/namespaces/default/workflows/${wf(k)}$`));
    }
    for (const k of ['waiting', 'callback', 'phone', 'closedLate'] as const) expect(stdout).not.toContain(ids[k]);
    expect(stdout).toContain('3 cases: 2 late, 2 stuck.');
    expect(stdout).toContain(`All late cases in the Web UI:  ${UI}/namespaces/default/workflows?query=`);
  });

  it('when nothing is late or stuck under the policy, then it says so and exits 0', async () => {
    const { stdout } = await cli(HOUR_MARGINS);
    expect(stdout).toContain('No late or stuck cases.');
    expect(stdout).not.toContain('/workflows/cancellation-');
  });

  it('when Temporal cannot be reached, then it names the address and exits 1', async () => {
    const failed = await run(process.execPath, [require.resolve('tsx/cli'), path.join('src', 'ops', 'stuck.ts')], {
      cwd: ROOT,
      timeout: 60_000,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', TEMPORAL_ADDRESS: '127.0.0.1:1' },
    }).then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('Could not connect to Temporal at 127.0.0.1:1');
  });
});
