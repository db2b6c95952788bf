import { UniPicError } from './unipic-error.js';

/** A file's size or sha256 differs from the manifest; the file was not kept. */
export class IntegrityError extends UniPicError {
  static readonly code = 'INTEGRITY';
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super('INTEGRITY', message, options);
    this.name = 'IntegrityError';
  }
}
UniPicError.register('INTEGRITY', (message, details, cause) => new IntegrityError(message, { details, cause }));
