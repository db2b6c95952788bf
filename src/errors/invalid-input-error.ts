import { UniPicError } from './unipic-error.js';

/** An input value (image bytes, prompt) cannot be used; the message says what was received. */
export class InvalidInputError extends UniPicError {
  static readonly code = 'INVALID_INPUT';
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super('INVALID_INPUT', message, options);
    this.name = 'InvalidInputError';
  }
}
UniPicError.register('INVALID_INPUT', (message, details, cause) => new InvalidInputError(message, { details, cause }));
