/**
 * Composition root of the worker process: reads config, builds the real channels and records
 * adapters, hands them to createActivities, and runs until SIGINT/SIGTERM. Workflow data is
 * encrypted with PAYLOAD_KEYS, and in production anything that arrives unencrypted is refused;
 * Temporal's own logs go through the same redacting logger. From dist/ (npm run build) it runs
 * the prebundled workflow code (the traced bundle when OTEL_EXPORTER_OTLP_ENDPOINT is set).
 */
import { NativeConnection, Runtime } from '@temporalio/worker';
import { createActivities } from './activities';
import { buildActivityDeps } from './activities/deps';
import { loadConfigOrExit, warnAboutDevelopmentKeys } from './src/config';
import { createLogger, TemporalPinoLogger } from './src/log';
import { startCaseIfNew } from './src/cases';
import { connectTemporal, temporalConnectionOptions } from './src/temporal/client';
import { createCaseWorker, prebuiltWorkflowBundle } from './src/temporal/worker';
import { startTracing } from './src/tracing';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger({ level: config.logLevel, base: { service: 'worker' } });
  warnAboutDevelopmentKeys(config, log);
  Runtime.install({ logger: new TemporalPinoLogger(log.child({ component: 'temporal' })) });
  const production = config.env === 'production';
  // Before the client and the worker exist, so their interceptors find the provider.
  const tracing =
    config.tracing && startTracing({ endpoint: config.tracing.endpoint, serviceName: 'shortnotice-worker' });
  const workflowBundle = prebuiltWorkflowBundle(production, tracing !== undefined);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
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
      refuseUnencrypted: production,
      workflowBundle,
      tracing,
    });
    const facts = {
      taskQueue: config.temporal.taskQueue,
      temporal: config.temporal.address,
      tls: config.temporal.tls !== undefined,
      prebuiltBundle: workflowBundle !== undefined,
      traces: tracing !== undefined,
    };
    log.info({ event: 'polling', ...facts }, 'worker polling');
    await worker.run();
  } finally {
    await temporal.close();
    await connection.close();
    await tracing?.shutdown();
  }
}

main().catch((err: unknown) => {
  createLogger({ base: { service: 'worker' } }).fatal({ event: 'stopped', err }, 'worker stopped');
  process.exit(1);
});
