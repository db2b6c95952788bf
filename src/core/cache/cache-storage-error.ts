import { InvalidModelError } from '../../errors/invalid-model-error.js';

export type CacheStorageProblem = 'not-writable' | 'full';

/**
 * The cache cannot take a file: a read-only or foreign cache directory, a full disk, an exhausted
 * browser quota. The error set has no storage class yet, so this is an `InvalidModelError` whose
 * `details.reason` is `cache-not-writable` or `cache-full`, built only here so a dedicated class
 * can replace it in one place.
 */
export function cacheStorageError(problem: CacheStorageProblem, location: string, cause: unknown): InvalidModelError {
  const advice = problem === 'full' ? 'free some space or choose another cacheDir' : 'choose a writable cacheDir, or pass cache: false to keep files in memory';
  const what = problem === 'full' ? 'is full' : 'is not writable';
  return new InvalidModelError(`The model cache at ${location} ${what}: ${advice}`, {
    cause,
    details: { reason: problem === 'full' ? 'cache-full' : 'cache-not-writable', location },
  });
}
