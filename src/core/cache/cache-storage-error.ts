import { InvalidModelError } from '../../errors/invalid-model-error.js';

export type CacheStorageProblem = 'not-writable' | 'full' | 'write-failed';

const MESSAGES: Record<CacheStorageProblem, { readonly what: string; readonly advice: string }> = {
  full: { what: 'is full', advice: 'free some space or choose another cacheDir' },
  'not-writable': { what: 'is not writable', advice: 'choose a writable cacheDir, or pass cache: false to keep files in memory' },
  'write-failed': {
    what: 'could not store a file (the browser storage failed while writing it, though the download was intact)',
    advice: 'retry the load (files already stored are kept), free disk space, or pass cache: false',
  },
};

/**
 * The cache cannot take a file: a read-only or foreign cache directory, a full disk, an exhausted
 * browser quota, a browser storage that failed mid-write. The error set has no storage class yet,
 * so this is an `InvalidModelError` whose `details.reason` is `cache-not-writable`, `cache-full`
 * or `cache-write-failed`, built only here so a dedicated class can replace it in one place.
 */
export function cacheStorageError(problem: CacheStorageProblem, location: string, cause: unknown): InvalidModelError {
  const { what, advice } = MESSAGES[problem];
  return new InvalidModelError(`The model cache at ${location} ${what}: ${advice}`, {
    cause,
    details: { reason: `cache-${problem}`, location },
  });
}
