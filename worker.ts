/**
 * Composition root of the worker process: reads config, builds the real channels and records
 * adapters, hands them to createActivities, and runs until SIGINT/SIGTERM.
 */
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from './activities';
import { buildActivityDeps } from './activities/deps';
import { loadConfigOrExit } from './src/config';
import { createCaseWorker } from './src/temporal/worker';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  try {
    const worker = await createCaseWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      activities: createActivities(buildActivityDeps(config)),
    });
    console.log(`worker: polling task queue ${config.temporal.taskQueue} on ${config.temporal.address}`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((e: unknown) => {
  console.error(`worker: stopped: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
