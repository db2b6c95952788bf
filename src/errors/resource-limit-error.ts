import { UniPicError } from './unipic-error.js';

/** A file or graph too large for the runtime (`maxFileBytes`, `maxGraphBytes`). */
export interface FileLimitDetails {
  /**
   * Which limit: `maxFileBytes` (largest single file the runtime can take), `maxBufferBytes`, or
   * `maxGraphBytes` (one graph's files together; `file` is then the graph's model file).
   */
  readonly limit: 'maxFileBytes' | 'maxBufferBytes' | 'maxGraphBytes';
  readonly limitBytes: number;
  readonly file: string;
  readonly bytes: number;
  readonly graph: string;
  readonly dtype: string;
  readonly device: string;
}

/**
 * A device that cannot hold what a family needs (UniPic-3): its total or free memory below the
 * estimated peak, or (WebGPU) its largest weight above a per-buffer limit (`graph` then names it).
 */
export interface DeviceMemoryLimitDetails {
  readonly limit: 'deviceMemoryBytes' | 'deviceFreeMemoryBytes' | 'maxBufferBytes' | 'maxStorageBufferBindingBytes';
  readonly limitBytes: number;
  readonly neededBytes: number;
  readonly graph?: string;
  readonly dtype: string;
  readonly device: string;
}

export type ResourceLimitDetails = FileLimitDetails | DeviceMemoryLimitDetails;

/**
 * A model file is larger than the runtime can load on this device (browsers: 2 GiB per file), or
 * the device cannot hold the model (`DeviceMemoryLimitDetails`).
 * Thrown by `UniPic.load` before anything is downloaded or a session is created, instead of a
 * failed fetch, a wasm abort or a crashed tab; the message says what to do.
 */
export class ResourceLimitError extends UniPicError {
  static readonly code = 'RESOURCE_LIMIT';
  declare readonly details: ResourceLimitDetails;
  constructor(message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super('RESOURCE_LIMIT', message, options);
    this.name = 'ResourceLimitError';
  }
}
UniPicError.register('RESOURCE_LIMIT', (message, details, cause) => new ResourceLimitError(message, { details, cause }));
