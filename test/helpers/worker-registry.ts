/**
 * Records every Temporal worker a test file runs, for the leak check in
 * `test/helpers/leak-environment.js` (the file's Jest environment).
 */
import { Worker } from '@temporalio/worker';

type Registry = Set<Worker>;
const registry: Registry = ((globalThis as { __shortnoticeRunningWorkers?: Registry }).__shortnoticeRunningWorkers ??= new Set());

const run = Worker.prototype.run;
if (!(run as { __registered?: boolean }).__registered) {
  const registered = function (this: Worker): Promise<void> {
    registry.add(this);
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
