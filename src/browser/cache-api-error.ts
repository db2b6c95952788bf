import { cacheStorageError } from '../core/cache/cache-storage-error.js';
import { UniPicError } from '../errors/unipic-error.js';

/**
 * Cache API failures: an exhausted quota is `cache-full`; a refused origin is `cache-not-writable`;
 * a write the browser's storage gave up on is `cache-write-failed`.
 */
export function toCacheApiError(error: unknown, location: string, writing = false): unknown {
  if (UniPicError.isInstance(error)) return error;
  const name = (error as { name?: unknown } | undefined)?.name;
  if (name === 'QuotaExceededError') return cacheStorageError('full', location, error);
  if (name === 'SecurityError' || name === 'InvalidStateError') return cacheStorageError('not-writable', location, error);
  // Chromium rejects Cache.put with a TypeError ("encountered a network error") when its own
  // storage fails while writing the body; the callers pass their own stream's failure instead.
  if (writing && error instanceof TypeError) return cacheStorageError('write-failed', location, error);
  return error;
}
