export { cancellationCase, type CaseOutcome } from './shell';
export type { CaseState } from './model';
