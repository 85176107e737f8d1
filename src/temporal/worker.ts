/** Builds the Temporal worker that runs case workflows and their activities. */
import {
  bundleWorkflowCode,
  NativeConnection,
  Worker,
  type Logger,
  type WorkerOptions as SdkWorkerOptions,
  type WorkflowBundle,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import type { NamedKey } from '../keys';
import type { CaseActivities } from '../shared/activities';
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
  /** Tests pass a bundle built once per file, the benchmark a prebuilt file; processes bundle from source. */
  workflowBundle?: WorkflowBundleOption;
}

export const WORKFLOWS_PATH = require.resolve('../../workflows');

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
    ...(opts.payloadKeys ? { dataConverter: encryptedDataConverter(opts.payloadKeys) } : {}),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  };
}

export function createCaseWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create(caseWorkerOptions(opts));
}

/** The case workflows bundled with the failure converter the encrypted data converter names. */
export function bundleCaseWorkflows(logger?: Logger): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, failureConverterPath: FAILURE_CONVERTER_PATH, logger });
}
