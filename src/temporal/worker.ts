/** Builds the Temporal worker that runs case workflows and their activities. */
import fs from 'node:fs';
import path from 'node:path';
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
  /**
   * Refuse workflow inputs, update arguments and every other payload that was not encrypted with
   * PAYLOAD_KEYS (production): they reach the workflow as values that cannot be converted.
   */
  refuseUnencrypted?: boolean;
  /** A bundle built in-process (tests, once per file) or `{ codePath }` of the prebuilt one. */
  workflowBundle?: WorkflowBundle | { codePath: string };
}

export const WORKFLOWS_PATH = require.resolve('../../workflows');

/**
 * Where `npm run build` writes the prebundled workflow code: dist/workflow-bundle.js, beside the
 * compiled worker.js. From the TypeScript sources this names a file that does not exist.
 */
export const WORKFLOW_BUNDLE_PATH = path.resolve(__dirname, '..', '..', 'workflow-bundle.js');

export function createCaseWorker(opts: WorkerOptions): Promise<Worker> {
  if (opts.refuseUnencrypted && !opts.payloadKeys) throw new Error('refuseUnencrypted needs payloadKeys');
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    ...(opts.payloadKeys
      ? { dataConverter: encryptedDataConverter(opts.payloadKeys, { refuseUnencrypted: opts.refuseUnencrypted }) }
      : {}),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
}

/** The case workflows bundled with the failure converter the encrypted data converter names. */
export function bundleCaseWorkflows(logger?: Logger): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, failureConverterPath: FAILURE_CONVERTER_PATH, logger });
}

/**
 * The bundle a worker process runs: the prebuilt one when it exists (always, in production, where
 * bundling at start-up would cost every restart seconds of CPU and need the bundler's
 * dependencies), otherwise undefined so the worker bundles the sources itself.
 */
export function prebuiltWorkflowBundle(
  production: boolean,
  file = WORKFLOW_BUNDLE_PATH,
): { codePath: string } | undefined {
  if (fs.existsSync(file)) return { codePath: file };
  if (production)
    throw new Error(`No prebuilt workflow bundle at ${file}: run \`npm run build\` and start the worker from dist/`);
  return undefined;
}
