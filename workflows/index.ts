/**
 * The workflows the worker runs. Each workflow evaluates the bundle's modules afresh (the SDK keeps
 * a module cache per workflow, even in a shared V8 context), so each type loads only its own code
 * when it starts: a case does not evaluate the absence's modules, nor an absence the case's, which
 * saves memory and CPU for every new workflow and every replay (docs/performance.md, "The workflow
 * bundle"). `require` here is webpack's, synchronous, and the same on every replay.
 */
import type * as Case from './case';
import type * as Absence from './absence/shell';

export function cancellationCase(...args: Parameters<typeof Case.cancellationCase>): ReturnType<typeof Case.cancellationCase> {
  return (require('./case') as typeof Case).cancellationCase(...args);
}

export function therapistAbsence(...args: Parameters<typeof Absence.therapistAbsence>): ReturnType<typeof Absence.therapistAbsence> {
  return (require('./absence/shell') as typeof Absence).therapistAbsence(...args);
}
