import { UniPicError } from './unipic-error.js';

/**
 * `unipic convert` was given a folder (or file) no registered model family recognises as its
 * checkpoint. `details.families` lists the families asked.
 */
export class UnrecognizedCheckpointError extends UniPicError {
  static readonly code = 'UNRECOGNIZED_CHECKPOINT';
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super('UNRECOGNIZED_CHECKPOINT', message, options);
    this.name = 'UnrecognizedCheckpointError';
  }
}
UniPicError.register('UNRECOGNIZED_CHECKPOINT', (message, details, cause) => new UnrecognizedCheckpointError(message, { details, cause }));
