/**
 * CaseService.submit against a fake Temporal client that records what it is asked (issue 14):
 * a case is described only when its start was refused because the session had a case already,
 * and the sessions of one submission start side by side.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { CaseService } from '../../src/cases';
import type { Submission } from '../../src/shared/api';
import { DEFAULT_POLICY } from '../../src/shared/policy';
import { SubmissionDigest } from '../../src/shared/search-attributes';

const DAY = 86_400_000;
const NOW = new Date('2026-11-26T09:00:00Z');

function submission(sessions: number, clientEmail = 'sam@example.org'): Submission {
  return {
    therapist: { id: 'T-1001', name: 'Alex Morgan', email: 'alex@example.org' },
    reason: 'illness',
    sessions: Array.from({ length: sessions }, (_, i) => ({
      id: `S-${i + 1}`,
      startsAt: new Date(NOW.getTime() + DAY).toISOString(),
      client: { ref: `C-${i + 1}`, firstName: 'Sam', preferredContact: 'email' as const, email: clientEmail },
      rebook: { slots: [new Date(NOW.getTime() + 3 * DAY).toISOString()] },
    })),
  };
}

/** A Temporal client holding workflows by id, each with the digest it was started with. */
function fakeTemporal(opts: { holdStarts?: number } = {}) {
  const digests = new Map<string, unknown>();
  const calls = { start: 0, describe: 0, joins: 0, inFlight: 0, maxInFlight: 0 };
  let release: () => void = () => undefined;
  // Starts wait until `holdStarts` are in flight at once, or a second has passed (one at a time never gets there).
  const held = new Promise<void>((resolve) => {
    release = resolve;
    setTimeout(resolve, 1_000).unref();
  });
  const client = {
    workflow: {
      // Every session joins its therapist's absence first (issue 11).
      async signalWithStart() {
        calls.joins += 1;
        return {};
      },
      async start(type: string, options: { workflowId: string; typedSearchAttributes: SearchAttributePair[] }) {
        calls.start += 1;
        calls.inFlight += 1;
        calls.maxInFlight = Math.max(calls.maxInFlight, calls.inFlight);
        if (opts.holdStarts && calls.inFlight === opts.holdStarts) release();
        if (opts.holdStarts) await held;
        calls.inFlight -= 1;
        if (digests.has(options.workflowId))
          throw new WorkflowExecutionAlreadyStartedError('already started', options.workflowId, type);
        digests.set(
          options.workflowId,
          options.typedSearchAttributes.find((a) => a.key.name === SubmissionDigest.name)?.value,
        );
        return {};
      },
      getHandle(workflowId: string) {
        return {
          describe() {
            calls.describe += 1;
            return Promise.resolve({ typedSearchAttributes: { get: () => digests.get(workflowId) }, status: { name: 'RUNNING' } });
          },
        };
      },
    },
  };
  return { client: client as unknown as Client, calls };
}

function service(client: Client): CaseService {
  return new CaseService({
    client,
    taskQueue: 'cases',
    policy: DEFAULT_POLICY,
    recordsMode: 'attestation',
    caseIdKey: Buffer.alloc(32, 1),
    now: () => NOW,
  });
}

test('issue 14: new sessions start without a describe after each start', async () => {
  const { client, calls } = fakeTemporal();
  const cases = await service(client).submit(submission(3));
  expect(cases).toHaveLength(3);
  expect(cases.every((c) => !('changesIgnored' in c))).toBe(true);
  expect(calls).toMatchObject({ start: 3, describe: 0 });
});

test('issue 14: a session submitted again is described to compare details; a change comes back ignored', async () => {
  const { client, calls } = fakeTemporal();
  const cases = service(client);
  const first = await cases.submit(submission(2));
  expect(await cases.submit(submission(2))).toEqual(first);
  expect(calls.describe).toBe(2);
  const corrected = await cases.submit(submission(2, 'sam.new@example.org'));
  expect(corrected).toEqual(first.map((c) => ({ ...c, changesIgnored: true })));
});

test('issue 14: the sessions of one submission are started side by side, not one after another', async () => {
  const { client, calls } = fakeTemporal({ holdStarts: 3 });
  await service(client).submit(submission(3));
  expect(calls.maxInFlight).toBe(3);
});
