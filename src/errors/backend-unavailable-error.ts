import { UniPicError } from './unipic-error.js';

export interface DeviceAttempt {
  readonly device: string;
  readonly error: string;
}

/** No device of an adapter could start; `attempts` lists each device tried and why it failed. */
export class BackendUnavailableError extends UniPicError {
  static readonly code = 'BACKEND_UNAVAILABLE';
  readonly attempts: readonly DeviceAttempt[];
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super('BACKEND_UNAVAILABLE', message, options);
    this.name = 'BackendUnavailableError';
    this.attempts = (options.details as { attempts?: DeviceAttempt[] } | undefined)?.attempts ?? [];
  }
}
UniPicError.register('BACKEND_UNAVAILABLE', (message, details, cause) => new BackendUnavailableError(message, { details, cause }));
