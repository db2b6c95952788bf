import { UniPicError } from './unipic-error.js';

/** The runtime ran out of memory or lost its device. */
export class OutOfMemoryError extends UniPicError {
  static readonly code = 'OUT_OF_MEMORY';
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super('OUT_OF_MEMORY', message, options);
    this.name = 'OutOfMemoryError';
  }
}
UniPicError.register('OUT_OF_MEMORY', (message, details, cause) => new OutOfMemoryError(message, { details, cause }));
