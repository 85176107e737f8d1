/** Builds the Temporal worker that runs case workflows and their activities. */
import { bundleWorkflowCode, NativeConnection, Worker, type Logger, type WorkflowBundle } from '@temporalio/worker';
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
  /** Tests pass a bundle built once per file; processes bundle from source. */
  workflowBundle?: WorkflowBundle;
}

export const WORKFLOWS_PATH = require.resolve('../../workflows');

export function createCaseWorker(opts: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    ...(opts.payloadKeys ? { dataConverter: encryptedDataConverter(opts.payloadKeys) } : {}),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
}

/** The case workflows bundled with the failure converter the encrypted data converter names. */
export function bundleCaseWorkflows(logger?: Logger): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, failureConverterPath: FAILURE_CONVERTER_PATH, logger });
}
