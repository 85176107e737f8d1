/**
 * Records every Temporal worker a test file runs, with the test that started it, for the leak
 * check in `test/helpers/leak-environment.js` (the file's Jest environment).
 */
import { Worker } from '@temporalio/worker';

type Registry = Map<Worker, string>;
const registry: Registry = ((globalThis as { __shortnoticeRunningWorkers?: Registry }).__shortnoticeRunningWorkers ??= new Map());

const run = Worker.prototype.run;
if (!(run as { __registered?: boolean }).__registered) {
  const registered = function (this: Worker): Promise<void> {
    registry.set(this, expect.getState().currentTestName ?? 'a hook outside any test');
    const running = run.call(this);
    running.then(
      () => registry.delete(this),
      () => registry.delete(this),
    );
    return running;
  };
  (registered as { __registered?: boolean }).__registered = true;
  Worker.prototype.run = registered;
}
