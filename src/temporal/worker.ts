/** Builds the Temporal worker that runs case workflows and their activities. */
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { CaseActivities } from '../shared/activities';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: CaseActivities;
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
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
}
