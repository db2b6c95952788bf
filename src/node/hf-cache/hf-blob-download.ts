import { open, rename, rm, stat, mkdir } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { OpenFileStream } from '../../core/sources/file-stream.js';
import { IntegrityError } from '../../errors/integrity-error.js';
import { cacheWrite } from '../cache-fs-error.js';
import { readFileChunks } from '../read-file-chunks.js';
import type { HfRepoCache } from './hf-repo-cache.js';
import type { StreamVerifier } from './hub-file-verifier.js';

/** Two downloads of one blob in this process would write the same `.incomplete`; one waits. */
const blobsInFlight = new Map<string, Promise<void>>();

/**
 * Make `blobs/<blobId>` present and verified; true when it was transferred (and so hashed) now,
 * false when a blob of that size was already there. Bytes go to `blobs/<blobId>.incomplete`, which is
 * renamed onto the blob only once complete and verified, so a blob name never holds a partial or
 * wrong file. A left-over `.incomplete` (this tool's or Python's) is resumed with a Range request:
 * the blob name is the content's hash, so its bytes are a prefix of the same file and need no
 * If-Range validator. An integrity failure deletes it; an abort or network failure keeps it.
 */
export async function downloadBlob(
  cache: HfRepoCache,
  blobId: string,
  size: number,
  verifier: StreamVerifier,
  openStream: OpenFileStream,
  onBytes: (fileLoaded: number) => void,
  signal?: AbortSignal,
): Promise<boolean> {
  const blob = cache.blobFile(blobId);
  for (let running = blobsInFlight.get(blob); running; running = blobsInFlight.get(blob)) {
    await running.catch(() => undefined);
  }
  if ((await cache.blobSize(blobId)) === size) return false;
  const transfer = transferBlob(cache, blobId, size, verifier, openStream, onBytes, signal);
  blobsInFlight.set(blob, transfer);
  try {
    await transfer;
  } finally {
    blobsInFlight.delete(blob);
  }
  return true;
}

async function transferBlob(
  cache: HfRepoCache,
  blobId: string,
  size: number,
  verifier: StreamVerifier,
  openStream: OpenFileStream,
  onBytes: (fileLoaded: number) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const blob = cache.blobFile(blobId);
  const incomplete = cache.incompleteFile(blobId);
  await cacheWrite(cache.directory, () => mkdir(dirname(blob), { recursive: true }));
  try {
    const feed = (chunk: Uint8Array) => {
      verifier.update(chunk);
      onBytes(verifier.bytes);
    };
    let have = (await stat(incomplete).catch(() => undefined))?.size ?? 0;
    if (have > size) {
      await rm(incomplete, { force: true });
      have = 0;
    }
    if (have > 0) {
      // Hash what is here before any request, so no connection idles while it is read back.
      const read = await readFileChunks(incomplete, feed, { length: have, ...(signal ? { signal } : {}) });
      if (read !== have) {
        verifier.reset();
        have = 0;
      }
    }
    if (have === size) {
      // Complete but never renamed (the process ended between the last byte and the rename).
      try {
        verifier.assertComplete();
        await cacheWrite(blob, () => rename(incomplete, blob));
        return;
      } catch (error) {
        if (!(error instanceof IntegrityError)) throw error;
        await rm(incomplete, { force: true });
        verifier.reset();
        have = 0;
      }
    }
    const stream = await openStream(have);
    const resuming = have > 0 && stream.startOffset === have;
    if (!resuming) verifier.reset();
    let handle: FileHandle;
    try {
      handle = await cacheWrite(incomplete, () => open(incomplete, resuming ? 'a' : 'w'));
    } catch (error) {
      await stream.cancel();
      throw error;
    }
    try {
      for await (const chunk of stream.chunks) {
        verifier.update(chunk);
        await cacheWrite(incomplete, () => writeAll(handle, chunk));
        onBytes(verifier.bytes);
      }
      // The rename must not publish a blob whose blocks are still only in the page cache.
      await cacheWrite(incomplete, () => handle.datasync());
    } finally {
      await handle.close();
    }
    verifier.assertComplete();
    await cacheWrite(blob, () => rename(incomplete, blob));
  } catch (error) {
    if (error instanceof IntegrityError) await rm(incomplete, { force: true }).catch(() => undefined);
    throw error;
  }
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let written = 0;
  while (written < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, written, chunk.byteLength - written);
    written += bytesWritten;
  }
}
