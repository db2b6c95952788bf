import { UniPicError } from './unipic-error.js';

/**
 * A file or graph too large for the runtime (`maxFileBytes`, `maxGraphBytes`), a task's graphs
 * together (`maxResidentBytes`), or a call's largest activation (a buffer limit, `size` set).
 */
export interface FileLimitDetails {
  /**
   * Which limit: `maxFileBytes` (largest single file the runtime can take), `maxBufferBytes`, or
   * `maxGraphBytes` (one graph's files together; `file` is then the graph's model file), or
   * `maxResidentBytes` (the graphs one task holds at once; `graph` / `file` / `dtype` are then its
   * largest graph's, `bytes` the whole set's, and `task` / `graphs` say which). A call refused for
   * an activation (`size` set) names the graph that builds it and no `file` / `dtype`.
   */
  readonly limit: 'maxFileBytes' | 'maxBufferBytes' | 'maxStorageBufferBindingBytes' | 'maxGraphBytes' | 'maxResidentBytes';
  readonly limitBytes: number;
  readonly file?: string;
  readonly bytes: number;
  readonly graph: string;
  readonly dtype?: string;
  readonly device: string;
  /** `maxResidentBytes`: the task whose graphs do not fit together, and those graphs. */
  readonly task?: string;
  readonly graphs?: readonly string[];
  /** A call refused for an activation: its output size. */
  readonly size?: number;
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

/**
 * A call whose fused attention counts more operations per head than the device's kernel can
 * (`maxAttentionHeadOps`; web-ort wasm: a 32-bit counter). `graph` names the attention's graph.
 */
export interface AttentionLimitDetails {
  readonly limit: 'maxAttentionHeadOps';
  readonly limitOps: number;
  readonly ops: number;
  readonly graph: string;
  readonly device: string;
  readonly task: string;
  readonly size: number;
}

export type ResourceLimitDetails = FileLimitDetails | DeviceMemoryLimitDetails | AttentionLimitDetails;

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
