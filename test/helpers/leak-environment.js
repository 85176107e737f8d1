/**
 * Jest's Node environment, plus a check when a test file's tests and hooks have all run: a
 * Temporal worker still running (its run() not finished) is a leak. It would poll a server the
 * file has already stopped for ever, and keep Jest from exiting (CI would time out with only
 * "gRPC call poll_workflow_task_queue retried" in the log). The check fails the file with an error
 * naming the test that started the worker, keeps the file's own results beside it, and shuts the
 * worker down. `test/helpers/worker-registry.ts` (a setup file) records each worker that runs.
 */
const { TestEnvironment } = require('jest-environment-node');

const DONE = new Set(['STOPPED', 'FAILED', 'INITIALIZED']);

class LeakCheckingEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
  }

  /** Workers still running, each shut down, as "state, started in <test>". */
  stopLeaked() {
    const workers = this.global.__shortnoticeRunningWorkers;
    const leaked = [];
    if (!workers) return leaked;
    for (const [worker, test] of workers) {
      const state = worker.getState();
      if (DONE.has(state)) continue;
      leaked.push(`${state}, started in "${test}"`);
      try {
        worker.shutdown();
      } catch {
        // already stopping
      }
    }
    workers.clear();
    return leaked;
  }

  async handleTestEvent(event, state) {
    // After the last afterAll hook, before the results are reported.
    if (event.name !== 'run_finish') return;
    const leaked = this.stopLeaked();
    if (leaked.length > 0) {
      state.unhandledErrors.push(
        new Error(
          `${leaked.length} Temporal worker(s) still running when the file ended (${leaked.join('; ')}): ` +
            'shut each down and await its run() before stopping the server it polls',
        ),
      );
    }
  }

  async teardown() {
    this.stopLeaked();
    await super.teardown();
  }
}

module.exports = LeakCheckingEnvironment;
