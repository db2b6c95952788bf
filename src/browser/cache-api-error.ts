import { cacheStorageError } from '../core/cache/cache-storage-error.js';
import { UniPicError } from '../errors/unipic-error.js';

/** Cache API failures: an exhausted quota is `cache-full`; a refused origin is `cache-not-writable`. */
export function toCacheApiError(error: unknown, location: string): unknown {
  if (UniPicError.isInstance(error)) return error;
  const name = (error as { name?: unknown } | undefined)?.name;
  if (name === 'QuotaExceededError') return cacheStorageError('full', location, error);
  if (name === 'SecurityError' || name === 'InvalidStateError') return cacheStorageError('not-writable', location, error);
  return error;
}
