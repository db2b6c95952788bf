import { UniPicError } from './unipic-error.js';

/** ONNX Runtime failed in a way no more specific error describes. */
export class OrtRuntimeError extends UniPicError {
  static readonly code = 'RUNTIME';
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super('RUNTIME', message, options);
    this.name = 'OrtRuntimeError';
  }
}
UniPicError.register('RUNTIME', (message, details, cause) => new OrtRuntimeError(message, { details, cause }));
