/** The eager-activity experiment's workflow: one no-op activity, told when the workflow was started. */
import { proxyActivities } from '@temporalio/workflow';

export interface EagerActivities {
  reached(startedAt: number): Promise<void>;
}

const { reached } = proxyActivities<EagerActivities>({ startToCloseTimeout: '1 minute' });

export async function oneActivity(startedAt: number): Promise<void> {
  await reached(startedAt);
}
