/**
 * Jest's Node environment, plus a check when a test file ends: a Temporal worker still running
 * (its run() not finished) after every hook of the file has run is a leak. It would poll a server
 * the file has already stopped for ever, and keep Jest from exiting (CI would time out with only
 * "gRPC call poll_workflow_task_queue retried" in the log). The check shuts such workers down and
 * fails the file, naming it, so the leak is a red test with a cause rather than a hang.
 * `test/helpers/worker-registry.ts` (a setup file) records each worker that runs.
 */
const { TestEnvironment } = require('jest-environment-node');

class LeakCheckingEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
  }

  async teardown() {
    const workers = this.global.__shortnoticeRunningWorkers;
    const leaked = [];
    if (workers) {
      for (const [worker, test] of workers) {
        const state = worker.getState();
        if (state === 'STOPPED' || state === 'FAILED' || state === 'INITIALIZED') continue;
        leaked.push(`${state}, started in "${test}"`);
        try {
          worker.shutdown();
        } catch {
          // already stopping
        }
      }
      workers.clear();
    }
    await super.teardown();
    if (leaked.length > 0) {
      throw new Error(
        `${this.testPath}: ${leaked.length} Temporal worker(s) still running when the file ended (${leaked.join('; ')}): ` +
          'shut each down and await its run() before stopping the server it polls',
      );
    }
  }
}

module.exports = LeakCheckingEnvironment;
