import { IntegrityError } from '../errors/integrity-error.js';
import { readFileChunks } from './read-file-chunks.js';

/** What hashes a file as it is read: the manifest's sha256 check or the Hub's blob check. */
export interface StreamVerifier {
  update(chunk: Uint8Array): void;
  readonly bytes: number;
  /** Throws IntegrityError when the size or digest differs. */
  assertComplete(): void;
}

/**
 * Reads the file at `path` through `verifier`, reporting `cache-read` bytes; `true` when it is
 * intact, `false` when its size or digest differs (the caller discards it). Other errors propagate.
 */
export async function verifyFileInPlace(
  path: string,
  verifier: StreamVerifier,
  onBytes: (phase: 'cache-read', bytes: number) => void,
  signal?: AbortSignal,
): Promise<boolean> {
  await readFileChunks(
    path,
    (chunk) => {
      verifier.update(chunk);
      onBytes('cache-read', verifier.bytes);
    },
    signal ? { signal } : {},
  );
  try {
    verifier.assertComplete();
    return true;
  } catch (error) {
    if (error instanceof IntegrityError) return false;
    throw error;
  }
}
