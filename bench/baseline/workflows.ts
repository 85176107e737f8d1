/**
 * The benchmark's baseline: the least a Temporal workflow can do on the case's happy path, with
 * the case's names so the same CaseService start, updates and query drive it. It contacts the
 * client (one no-op activity), waits for `chooseSlot` with the client's response window as its
 * one timer (on expiry it contacts the therapist, the "escalation"), confirms the booking to
 * client and therapist (two no-op activities, side by side like the case's), then waits for the
 * three `confirmRecord` updates. Nothing else: no timeline, no search attributes, no schemas.
 *
 * Every submission also joins its therapist's absence (issue 11: CaseService signal-with-starts a
 * `therapistAbsence` before it starts the case), so the baseline has the least such a coordinator
 * can be too: it takes the join and waits, as an absence waits for the therapist's return. Before
 * it existed, the baseline's starts created absences no worker of its could run, whose failing
 * workflow tasks the server retried.
 */
import { condition, defineQuery, defineSignal, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';
import type { CaseInput } from '../../src/shared/case';
import type { BaselineActivities } from './activities';

const chooseSlot = defineUpdate<{ slot: string }, [{ slot: string }]>('chooseSlot');
const confirmRecord = defineUpdate<{ status: string }, [{ record: string; by: string }]>('confirmRecord');
const view = defineQuery<{ stage: string }>('view');

/** The case's client-channel options, so an activity costs the server the same. */
const { contact } = proxyActivities<BaselineActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 6 },
});

export async function cancellationCase(input: CaseInput): Promise<{ stage: string }> {
  let stage = 'contacting';
  let chosen: string | undefined;
  const confirmed = new Set<string>();
  setHandler(view, () => ({ stage }));
  setHandler(
    chooseSlot,
    ({ slot }) => {
      chosen = slot;
      return { slot };
    },
    {
      validator: ({ slot }) => {
        if (stage !== 'awaiting-choice' && stage !== 'awaiting-follow-up')
          throw new Error('This case is not waiting for a choice');
        if (!('slots' in input.rebook) || !input.rebook.slots.includes(slot))
          throw new Error('That time was not one of the offered slots');
      },
    },
  );
  setHandler(confirmRecord, ({ record }) => {
    confirmed.add(record);
    return { status: stage };
  });

  const client = input.client.email ?? input.client.ref;
  await contact(client);
  stage = 'awaiting-choice';
  if (!(await condition(() => chosen !== undefined, input.policy.clientResponseWindowMs))) {
    await contact(input.therapist.email);
    stage = 'awaiting-follow-up';
    await condition(() => chosen !== undefined);
  }
  stage = 'awaiting-documentation';
  await Promise.all([contact(client), contact(input.therapist.email)]);
  await condition(() => confirmed.size === 3);
  stage = 'completed';
  return { stage };
}

const joinAbsence = defineSignal<[unknown]>('joinAbsence');

export async function therapistAbsence(): Promise<void> {
  setHandler(joinAbsence, () => undefined);
  await condition(() => false);
}
