/**
 * Issue 16, traces: turning traces on must not break cases already running. The histories
 * recorded for the replay tests (made without traces) replay deterministically with the workflow
 * interceptors a worker with traces on bundles in (workflows/tracing.ts). The other direction,
 * a case traced from its start replayed without traces, is in traces.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundle } from '@temporalio/worker';
import { TRACING_WORKFLOW_INTERCEPTORS, WORKFLOWS_PATH } from '../../src/temporal/worker';
import { HISTORIES_DIR } from '../workflows/harness';

const files = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.history.bin'));
const bundles = new Map<string, Promise<WorkflowBundle>>();

/** The replay tests' bundle (no failure converter: the histories were recorded without one), plus `module`. */
const bundleWith = (module: string) => {
  let b = bundles.get(module);
  if (!b) {
    b = bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      workflowInterceptorModules: [module],
      logger: new DefaultLogger('ERROR'),
    });
    bundles.set(module, b);
  }
  return b;
};

const history = (file: string) => temporal.api.history.v1.History.decode(readFileSync(join(HISTORIES_DIR, file)));

test('T4 the recorded histories include cases acted on by Workflow Updates and an absence with signals', () => {
  expect(files).toEqual(
    expect.arrayContaining(['a1-absence.history.bin', 'w1-email-choice.history.bin', 'w6-callback.history.bin']),
  );
});

test.each(files)(
  'T4 when traces are turned on while a case runs (%s), then its history replays deterministically with them',
  async (file) => {
    await Worker.runReplayHistory(
      { workflowBundle: await bundleWith(TRACING_WORKFLOW_INTERCEPTORS) },
      history(file),
      `traced-${file}`,
    );
  },
  120_000,
);

test("T4 the interceptors package's own full set (update spans included) would not replay a case recorded without traces: why workflows/tracing.ts leaves update handlers out", async () => {
  const upstream = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');
  await expect(
    Worker.runReplayHistory(
      { workflowBundle: await bundleWith(upstream) },
      history('w1-email-choice.history.bin'),
      'upstream-w1',
    ),
  ).rejects.toThrow(/Nondeterminism/);
}, 120_000);
