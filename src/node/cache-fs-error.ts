import { cacheStorageError } from '../core/cache/cache-storage-error.js';
import { UniPicError } from '../errors/unipic-error.js';

const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'EISDIR']);
const FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** File-system failures of the cache become the typed storage error; anything else passes. */
export function toCacheError(error: unknown, location: string): unknown {
  if (UniPicError.isInstance(error)) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && FULL.has(code)) return cacheStorageError('full', location, error);
  if (code && NOT_WRITABLE.has(code)) return cacheStorageError('not-writable', location, error);
  return error;
}

/**
 * Run a cache write, translating file-system failures. Inside a write, ENOENT means the cache's
 * own folders could not be made — a recursive `mkdir` on a read-only file system reports it —
 * so it counts as not writable.
 */
export async function cacheWrite<T>(location: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if ((error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw cacheStorageError('not-writable', location, error);
    throw toCacheError(error, location);
  }
}
