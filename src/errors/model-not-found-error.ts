import { UniPicError } from './unipic-error.js';

/** A model file or folder could not be found or fetched (404, missing path, not in cache while offline). */
export class ModelNotFoundError extends UniPicError {
  static readonly code = 'MODEL_NOT_FOUND';
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super('MODEL_NOT_FOUND', message, options);
    this.name = 'ModelNotFoundError';
  }
}
UniPicError.register('MODEL_NOT_FOUND', (message, details, cause) => new ModelNotFoundError(message, { details, cause }));
