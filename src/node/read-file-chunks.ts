import { createReadStream } from 'node:fs';
import { throwIfAborted } from '../errors/abort-error.js';

/** Large reads keep syscalls and hash calls few when checking multi-gigabyte files. */
const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Stream a file's first `length` bytes (all when absent) into `onChunk`, checking the abort
 * signal between chunks. Returns the number of bytes read.
 */
export async function readFileChunks(
  path: string,
  onChunk: (chunk: Uint8Array, readSoFar: number) => void,
  options: { length?: number; signal?: AbortSignal } = {},
): Promise<number> {
  if (options.length === 0) return 0;
  const stream = createReadStream(path, {
    highWaterMark: READ_CHUNK_BYTES,
    ...(options.length !== undefined ? { end: options.length - 1 } : {}),
  });
  let read = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      throwIfAborted(options.signal);
      read += chunk.byteLength;
      onChunk(chunk, read);
    }
  } finally {
    stream.destroy();
  }
  return read;
}
