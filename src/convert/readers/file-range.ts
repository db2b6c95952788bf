import type { FileHandle } from 'node:fs/promises';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { awaitCheckpointBytes } from './arriving-files.js';

// One read() call moves at most about 2 GiB; the embedding of the full model is bigger in fp32.
const MAX_READ_BYTES = 1 << 30;

/**
 * Reads exactly `length` bytes at `position` into a fresh, 8-byte-aligned array (so typed-array
 * views of any element size work on it). A short read means the file is shorter than its own
 * header claims: a truncated download.
 */
export async function readExactly(handle: FileHandle, position: number, length: number, path: string): Promise<Uint8Array> {
  awaitCheckpointBytes(path, position + length);
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, Math.min(MAX_READ_BYTES, length - done), position + done);
    if (bytesRead === 0) {
      throw new InvalidModelError(`${path} ends at byte ${position + done}, but ${position + length} bytes were expected (truncated?)`);
    }
    done += bytesRead;
  }
  return out;
}
