import { UniPicError } from './unipic-error.js';

/** The requested device is not offered by this adapter or platform. */
export class UnsupportedDeviceError extends UniPicError {
  static readonly code = 'UNSUPPORTED_DEVICE';
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super('UNSUPPORTED_DEVICE', message, options);
    this.name = 'UnsupportedDeviceError';
  }
}
UniPicError.register('UNSUPPORTED_DEVICE', (message, details, cause) => new UnsupportedDeviceError(message, { details, cause }));
