/**
 * The Java time-skipping test server holds its clock for every activity task from schedule to
 * completion. Terminating a case with an activity in flight leaves that lock behind for good, and
 * from then on every env.sleep() on that server runs in real time: the cause of the rare stalls of
 * the workflow property test (CI of stop 20: a sequence waited 180 s on a sleep of 56 minutes) and
 * of "an earlier test held the clock" in files that share a server. These tests show the server's
 * behaviour and prove the two harness helpers that keep the tests clear of it.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { timeSkippingServerPerTest } from '../helpers/temporal';
import { caseInput, DAY, Recorder, releaseLeakedClockLock, startCase, terminateWhenQuiet, withWorker } from './harness';

let env: TestWorkflowEnvironment;
timeSkippingServerPerTest((e) => (env = e));

/** Whether a day of server time passes within `withinMs` of real time (it passes at once when the clock is free). */
async function dayPassesWithin(withinMs: number): Promise<boolean> {
  let done = false;
  const sleep = env.sleep(DAY).then(() => (done = true));
  await Promise.race([sleep, new Promise((r) => setTimeout(r, withinMs))]);
  return done;
}

/** Starts a case whose first message to the client is held on its way, and waits until it is. */
async function caseWithOfferInFlight(tq: string, rec: Recorder) {
  const c = await startCase(env, tq, caseInput(await env.currentTimeMs()));
  const deadline = Date.now() + 20_000;
  while (rec.clientAttempts === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(rec.clientAttempts).toBe(1);
  return c;
}

/** Terminates a case while its offer is being sent, then lets the send finish: the server refuses its completion ("Completed workflow") and keeps the lock. */
async function withLockLeftBehind(body: () => Promise<void>): Promise<void> {
  let release!: () => void;
  const rec = new Recorder({ holdClient: new Promise<void>((r) => (release = r)) });
  await withWorker(env, rec, async (tq) => {
    const c = await caseWithOfferInFlight(tq, rec);
    await c.handle.terminate('terminated mid-send');
    release();
    await new Promise((r) => setTimeout(r, 500));
    await body();
  });
}

test('a case terminated while its offer is being sent leaves the test server clock held, and releaseLeakedClockLock gives the lock back', () =>
  withLockLeftBehind(async () => {
    expect(await releaseLeakedClockLock(env, 'the held case', 3_000)).toBe(1);
    expect(await dayPassesWithin(5_000)).toBe(true);
    expect(await releaseLeakedClockLock(env, 'nothing', 3_000)).toBe(0);
  }), 60_000);

test('terminateWhenQuiet waits for the offer in flight before it terminates the case, and the clock still skips after', async () => {
  let release!: () => void;
  const rec = new Recorder({ holdClient: new Promise<void>((r) => (release = r)) });
  await withWorker(env, rec, async (tq) => {
    const c = await caseWithOfferInFlight(tq, rec);
    let terminated = false;
    const ending = terminateWhenQuiet(c.handle, 'test finished').then(() => (terminated = true));
    await new Promise((r) => setTimeout(r, 500));
    expect(terminated).toBe(false);
    expect((await c.handle.describe()).status.name).toBe('RUNNING');
    release();
    await ending;
    expect((await c.handle.describe()).status.name).toBe('TERMINATED');
    expect(rec.clientSends.length).toBe(1);
    expect(await dayPassesWithin(5_000)).toBe(true);
  });
}, 60_000);

test('a sleep the held clock keeps from returning is cancelled by an abort signal, as the property test watchdog does before the server is torn down', () =>
  withLockLeftBehind(async () => {
    const abort = new AbortController();
    const stalled = env.connection.withAbortSignal(abort.signal, () => env.sleep(DAY)).then(
      () => 'returned',
      () => 'cancelled',
    );
    await new Promise((r) => setTimeout(r, 1_000));
    const started = Date.now();
    abort.abort();
    expect(await stalled).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(1_000);
    // The server still runs the cancelled sleep (it re-takes a lock when its day has passed): this
    // test's server is torn down after it, as the property test's file is after a stall.
  }), 60_000);
