export { cancellationCase } from './case';
