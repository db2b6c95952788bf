import { UniPicError } from './unipic-error.js';

/** The ONNX Runtime package an adapter needs is not installed; the message names the install command. */
export class BackendNotInstalledError extends UniPicError {
  static readonly code = 'BACKEND_NOT_INSTALLED';
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super('BACKEND_NOT_INSTALLED', message, options);
    this.name = 'BackendNotInstalledError';
  }
}
UniPicError.register('BACKEND_NOT_INSTALLED', (message, details, cause) => new BackendNotInstalledError(message, { details, cause }));
