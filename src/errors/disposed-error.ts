import { UniPicError } from './unipic-error.js';

/** The model was disposed; it cannot run calls any more. */
export class DisposedError extends UniPicError {
  static readonly code = 'DISPOSED';
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super('DISPOSED', message, options);
    this.name = 'DisposedError';
  }
}
UniPicError.register('DISPOSED', (message, details, cause) => new DisposedError(message, { details, cause }));
