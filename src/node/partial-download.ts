import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { FileStream } from '../core/sources/file-stream.js';
import { cacheWrite } from './cache-fs-error.js';
import { readFileChunks } from './read-file-chunks.js';

/** Counts and checks a file's bytes as they stream past (FileVerifier's shape; the Hub adds git blob ids). */
export interface StreamVerifier {
  readonly bytes: number;
  update(chunk: Uint8Array): void;
  reset(): void;
  assertComplete(): void;
}

/**
 * Hash the first `length` bytes of a left-over partial into `verifier`, before any request, so no
 * connection idles (and times out) while gigabytes are read back from disk. Returns the bytes to
 * resume from: `length`, or 0 (verifier reset) when the partial turned out shorter.
 */
export async function hashLeftover(
  partial: string,
  length: number,
  verifier: StreamVerifier,
  onBytes: (loaded: number) => void,
  signal?: AbortSignal,
): Promise<number> {
  const feed = (chunk: Uint8Array) => {
    verifier.update(chunk);
    onBytes(verifier.bytes);
  };
  const read = await readFileChunks(partial, feed, { length, ...(signal ? { signal } : {}) });
  if (read === length) return length;
  verifier.reset();
  return 0;
}

/**
 * Write `stream` into `partial`: appended when the server resumed at `have` (the bytes already
 * there, hashed into `verifier`), else from byte 0 with the verifier reset. Every byte is counted
 * and hashed as it is written; the file is synced before returning, so the caller's rename never
 * publishes blocks still only in the page cache. `beforeWrite` runs once the answer is known (the
 * disk cache records the validator there); a failure in it or in opening the file cancels the stream.
 */
export async function writeStreamToPartial(
  partial: string,
  have: number,
  stream: FileStream,
  verifier: StreamVerifier,
  onBytes: (loaded: number) => void,
  beforeWrite?: () => Promise<void>,
): Promise<void> {
  const resuming = have > 0 && stream.startOffset === have;
  if (!resuming) verifier.reset();
  let handle: FileHandle;
  try {
    await beforeWrite?.();
    handle = await cacheWrite(partial, () => open(partial, resuming ? 'a' : 'w'));
  } catch (error) {
    await stream.cancel();
    throw error;
  }
  try {
    for await (const chunk of stream.chunks) {
      verifier.update(chunk);
      await cacheWrite(partial, () => writeAll(handle, chunk));
      onBytes(verifier.bytes);
    }
    await cacheWrite(partial, () => handle.datasync());
  } finally {
    await handle.close();
  }
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let written = 0;
  while (written < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, written, chunk.byteLength - written);
    written += bytesWritten;
  }
}
