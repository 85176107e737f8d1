export { cancellationCase } from './case';
export { therapistAbsence } from './absence/shell';
