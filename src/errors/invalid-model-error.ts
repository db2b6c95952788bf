import { UniPicError } from './unipic-error.js';

/** A model folder, manifest, graph or checkpoint is malformed, hostile or inconsistent. */
export class InvalidModelError extends UniPicError {
  static readonly code = 'INVALID_MODEL';
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super('INVALID_MODEL', message, options);
    this.name = 'InvalidModelError';
  }
}
UniPicError.register('INVALID_MODEL', (message, details, cause) => new InvalidModelError(message, { details, cause }));
