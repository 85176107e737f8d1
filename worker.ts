/**
 * Composition root of the worker process: reads config, builds the real channels and records
 * adapters, hands them to createActivities, and runs until SIGINT/SIGTERM. Workflow data is
 * encrypted with PAYLOAD_KEYS; Temporal's own logs go through the same redacting logger.
 */
import { NativeConnection, Runtime } from '@temporalio/worker';
import { createActivities } from './activities';
import { buildActivityDeps } from './activities/deps';
import { loadConfigOrExit, warnAboutDevelopmentKeys } from './src/config';
import { createLogger, TemporalPinoLogger } from './src/log';
import { startCaseIfNew } from './src/cases';
import { connectTemporal } from './src/temporal/client';
import { createCaseWorker } from './src/temporal/worker';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger({ level: config.logLevel, base: { service: 'worker' } });
  warnAboutDevelopmentKeys(config, log);
  Runtime.install({ logger: new TemporalPinoLogger(log.child({ component: 'temporal' })) });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  // The process's one Temporal client: an absence starts follow-on cases through it.
  const temporal = await connectTemporal(config);
  try {
    const worker = await createCaseWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      activities: createActivities({
        ...buildActivityDeps(config, log.child({ component: 'activities' })),
        startCase: (input) => startCaseIfNew(temporal.client, config.temporal.taskQueue, input),
      }),
      payloadKeys: config.payloadKeys,
    });
    log.info({ event: 'polling', taskQueue: config.temporal.taskQueue, temporal: config.temporal.address }, 'worker polling');
    await worker.run();
  } finally {
    await temporal.close();
    await connection.close();
  }
}

main().catch((err: unknown) => {
  createLogger({ base: { service: 'worker' } }).fatal({ event: 'stopped', err }, 'worker stopped');
  process.exit(1);
});
