/** A worker with the real activities for tests that run the whole stack on the dev server. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { buildActivityDeps } from '../../activities/deps';
import { startCaseIfNew } from '../../src/cases';
import type { Config } from '../../src/config';
import { createCaseWorker } from '../../src/temporal/worker';
import { workflowBundle } from '../workflows/harness';

/** Starts polling at once; the returned function shuts the worker down and waits for it. */
export async function runRealWorker(env: TestWorkflowEnvironment, config: Config): Promise<() => Promise<void>> {
  const worker = await createCaseWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: config.temporal.taskQueue,
    activities: createActivities({ ...buildActivityDeps(config), startCase: (input) => startCaseIfNew(env.client, config.temporal.taskQueue, input) }),
    workflowBundle: await workflowBundle(),
  });
  const running = worker.run();
  return async () => {
    worker.shutdown();
    await running;
  };
}
