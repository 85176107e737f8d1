/**
 * The benchmark's baseline: the least a Temporal workflow can do on the case's happy path, with
 * the case's names so the same CaseService start, updates and query drive it. It contacts the
 * client (one no-op activity), waits for `chooseSlot` with the client's response window as its
 * one timer (on expiry it contacts the therapist, the "escalation"), confirms the booking to
 * client and therapist (two no-op activities, side by side like the case's), then waits for the
 * three `confirmRecord` updates. Nothing else: no timeline, no search attributes, no schemas.
 */
import { condition, defineQuery, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';
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
