import { UniPicError } from './unipic-error.js';

/** A graph produced NaN or Infinity; reported instead of returning a broken result. */
export class NumericError extends UniPicError {
  static readonly code = 'NUMERIC';
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super('NUMERIC', message, options);
    this.name = 'NumericError';
  }
}
UniPicError.register('NUMERIC', (message, details, cause) => new NumericError(message, { details, cause }));
