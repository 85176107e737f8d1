/**
 * Composition root of the worker process: reads config, builds the real channels and records
 * adapters, hands them to createActivities, and runs until SIGINT/SIGTERM. Workflow data is
 * encrypted with PAYLOAD_KEYS, and in production anything that arrives unencrypted is refused;
 * Temporal's own logs go through the same redacting logger. From dist/ (npm run build) it runs
 * the prebundled workflow code (the traced bundle when OTEL_EXPORTER_OTLP_ENDPOINT is set). It
 * serves /healthz, /readyz and /metrics on WORKER_HEALTH_PORT, and
 * its Temporal runtime serves the SDK's own metrics (schedule-to-start latency, sticky cache,
 * pollers, the workflows' escalation counters) on WORKER_SDK_METRICS_PORT.
 */
import { NativeConnection, Runtime } from '@temporalio/worker';
import { createActivities } from './activities';
import { buildActivityDeps } from './activities/deps';
import { loadConfigOrExit, warnAboutDevelopmentKeys, type Config } from './src/config';
import { createLogger, TemporalPinoLogger } from './src/log';
import { Readiness, standardChecks, startHealthServer, type HealthServer } from './src/ops/health';
import { createMetrics } from './src/ops/metrics';
import { startCaseIfNew } from './src/cases';
import { connectTemporal, temporalConnectionOptions } from './src/temporal/client';
import { createCaseWorker, prebuiltWorkflowBundle } from './src/temporal/worker';
import { startTracing } from './src/tracing';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger({ level: config.logLevel, base: { service: 'worker' } });
  warnAboutDevelopmentKeys(config, log);
  Runtime.install({
    logger: new TemporalPinoLogger(log.child({ component: 'temporal' })),
    ...(config.worker.sdkMetricsPort !== 0
      ? {
          telemetryOptions: {
            metrics: {
              // Seconds and _total, as Prometheus names them (and as prom-client does for the app's own).
              prometheus: {
                bindAddress: hostPort(listenHost(config), config.worker.sdkMetricsPort),
                countersTotalSuffix: true,
                useSecondsForDurations: true,
              },
            },
          },
        }
      : {}),
  });
  const metrics = createMetrics('worker');
  const production = config.env === 'production';
  // Before the client and the worker exist, so their interceptors find the provider.
  const tracing =
    config.tracing && startTracing({ endpoint: config.tracing.endpoint, serviceName: 'shortnotice-worker' });
  const workflowBundle = prebuiltWorkflowBundle(production, tracing !== undefined);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  // The process's one Temporal client: an absence starts follow-on cases through it.
  const temporal = await connectTemporal(config);
  let health: HealthServer | undefined;
  try {
    const worker = await createCaseWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      activities: createActivities({
        ...buildActivityDeps(config, log.child({ component: 'activities' }), metrics),
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
    const readiness = new Readiness(
      [
        ...standardChecks(config, temporal.client),
        {
          name: 'worker',
          run: () => {
            const state = worker.getState();
            return Promise.resolve(state === 'RUNNING' ? undefined : `worker is ${state.toLowerCase()}`);
          },
        },
      ],
      metrics,
    );
    if (config.worker.healthPort !== 0)
      health = await startHealthServer({
        port: config.worker.healthPort,
        host: listenHost(config),
        readiness,
        metrics,
        beforeScrape: () => readiness.evaluate(),
      });
    log.info(
      {
        event: 'polling',
        ...facts,
        healthPort: health?.port,
        sdkMetricsPort: config.worker.sdkMetricsPort || undefined,
      },
      'worker polling',
    );
    await worker.run();
  } finally {
    await health?.stop();
    await temporal.close();
    await connection.close();
    await tracing?.shutdown();
  }
}

/** Where the worker's ports listen: BIND_ADDRESS, or as the web app, loopback outside production. */
function listenHost(config: Config): string {
  return config.bindAddress ?? '0.0.0.0';
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

main().catch((err: unknown) => {
  createLogger({ base: { service: 'worker' } }).fatal({ event: 'stopped', err }, 'worker stopped');
  process.exit(1);
});
