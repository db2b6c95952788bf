import { UniPicError } from './unipic-error.js';

/**
 * A call to a task (`generate`, `edit`, `understand`) the loaded model's family does not offer.
 * Thrown synchronously by the call, before anything is queued or run; `details.task` names the task
 * and `details.capabilities` what the model offers.
 */
export class UnsupportedTaskError extends UniPicError {
  static readonly code = 'UNSUPPORTED_TASK';
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super('UNSUPPORTED_TASK', message, options);
    this.name = 'UnsupportedTaskError';
  }
}
UniPicError.register('UNSUPPORTED_TASK', (message, details, cause) => new UnsupportedTaskError(message, { details, cause }));
