/** Builds the Temporal worker that runs case workflows and their activities. */
import fs from 'node:fs';
import path from 'node:path';
import {
  bundleWorkflowCode,
  NativeConnection,
  Worker,
  type Logger,
  type WorkerOptions as SdkWorkerOptions,
  type WorkflowBundle,
} from '@temporalio/worker';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { NamedKey } from '../keys';
import type { CaseActivities } from '../shared/activities';
import type { Tracing } from '../tracing';
import { encryptedDataConverter, FAILURE_CONVERTER_PATH } from './codec';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: CaseActivities;
  /**
   * Encrypts workflow data (PAYLOAD_KEYS). The worker process always passes it; tests that read
   * histories in the clear may leave it out. A prebuilt bundle must come from
   * `bundleCaseWorkflows()` so failures raised in workflow code are encoded too.
   */
  payloadKeys?: readonly NamedKey[];
  /**
   * Refuse workflow inputs, update arguments and every other payload that was not encrypted with
   * PAYLOAD_KEYS (production): they reach the workflow as values that cannot be converted.
   */
  refuseUnencrypted?: boolean;
  /**
   * A bundle built in-process (tests, once per file) or `{ codePath }` of the prebuilt one. With
   * `tracing`, it must come from `bundleCaseWorkflows({ traced: true })`: a bundle's workflow
   * interceptors are fixed when it is built.
   */
  workflowBundle?: WorkflowBundle | { codePath: string };
  /** Traces (src/tracing.ts): activity spans, and the sink that exports the workflows' spans. */
  tracing?: Tracing;
}

export const WORKFLOWS_PATH = require.resolve('../../workflows');

/**
 * Where `npm run build` writes the prebundled workflow code: dist/workflow-bundle.js, beside the
 * compiled worker.js. From the TypeScript sources this names a file that does not exist.
 */
export const WORKFLOW_BUNDLE_PATH = path.resolve(__dirname, '..', '..', 'workflow-bundle.js');
/** The same, built with the OpenTelemetry workflow interceptors, for a worker with traces on. */
export const TRACED_WORKFLOW_BUNDLE_PATH = path.resolve(__dirname, '..', '..', 'workflow-bundle-traced.js');

/**
 * The OpenTelemetry workflow interceptors (workflows/tracing.ts): spans for the run, its signals
 * and each activity it schedules, passing the trace on in the activity's headers. Made for the
 * sandbox (ids from the workflow's seeded random, spans handed out through a sink, which is not
 * called on replay), so workflow code stays deterministic with them.
 */
export const TRACING_WORKFLOW_INTERCEPTORS = require.resolve('../../workflows/tracing');

/**
 * Sized for the project's machine kind (2 cores, 24 GB, shared with the server and the web app),
 * from `npm run bench` (docs/performance.md, "Worker options").
 */
export const WORKER_TUNING = {
  // The SDK's default grows with the heap limit (2,310 cached cases here, about 2.7 GB at the
  // 1.2 MB a case now holds). A thousand keeps the worker near 1.5 GB however many cases are open
  // (near 0.75 GB at the 0.5 MB goal); a case beyond it is replayed at its next event, which made
  // its deadline about half a second later in the benchmark, for deadlines measured in hours.
  maxCachedWorkflows: 1_000,
  // One V8 context for every workflow (the SDK's default, kept on purpose): a context per workflow
  // measured twice the worker CPU per case (42 against 21 ms) and memory per case (2.1 against 1.1 MB).
  reuseV8Context: true,
  // Concurrency stays at the SDK's defaults (40 workflow tasks, 100 activities): 10 and 20 measured
  // no less CPU or memory per case and no better lateness, and activities mostly wait on SMTP.
} as const;

/**
 * The SDK options of the case worker. The benchmark's baseline worker is built from the same
 * options with only its workflows and activities swapped, so the two differ in nothing else.
 */
export function caseWorkerOptions(opts: WorkerOptions): SdkWorkerOptions {
  return {
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    ...WORKER_TUNING,
    ...(opts.payloadKeys
      ? { dataConverter: encryptedDataConverter(opts.payloadKeys, { refuseUnencrypted: opts.refuseUnencrypted }) }
      : {}),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    ...(opts.tracing ? tracingOptions(opts.tracing, opts.workflowBundle === undefined) : {}),
  };
}

/** What a worker with traces on adds; nothing of it is installed when traces are off. */
function tracingOptions(tracing: Tracing, bundlesItself: boolean): Partial<SdkWorkerOptions> {
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          // Puts trace_id and span_id on the lines activities log through Temporal's logger.
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
      // Only read when the worker bundles the sources itself; a given bundle has them built in.
      ...(bundlesItself ? { workflowModules: [TRACING_WORKFLOW_INTERCEPTORS] } : {}),
    },
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}

export function createCaseWorker(opts: WorkerOptions): Promise<Worker> {
  if (opts.refuseUnencrypted && !opts.payloadKeys) throw new Error('refuseUnencrypted needs payloadKeys');
  return Worker.create(caseWorkerOptions(opts));
}

/**
 * The case workflows bundled with the failure converter the encrypted data converter names, and,
 * when `traced`, with the OpenTelemetry workflow interceptors.
 */
export function bundleCaseWorkflows(options: { logger?: Logger; traced?: boolean } = {}): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: options.logger,
    ...(options.traced ? { workflowInterceptorModules: [TRACING_WORKFLOW_INTERCEPTORS] } : {}),
  });
}

/**
 * The bundle a worker process runs: the prebuilt one when it exists (always, in production, where
 * bundling at start-up would cost every restart seconds of CPU and need the bundler's
 * dependencies), otherwise undefined so the worker bundles the sources itself.
 */
export function prebuiltWorkflowBundle(
  production: boolean,
  traced = false,
  file = traced ? TRACED_WORKFLOW_BUNDLE_PATH : WORKFLOW_BUNDLE_PATH,
): { codePath: string } | undefined {
  if (fs.existsSync(file)) return { codePath: file };
  if (production)
    throw new Error(`No prebuilt workflow bundle at ${file}: run \`npm run build\` and start the worker from dist/`);
  return undefined;
}
