import { rename, rm, stat, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { OpenFileStream } from '../../core/sources/file-stream.js';
import { IntegrityError } from '../../errors/integrity-error.js';
import { cacheWrite } from '../cache-fs-error.js';
import { hashLeftover, writeStreamToPartial, type StreamVerifier } from '../partial-download.js';
import type { HfRepoCache } from './hf-repo-cache.js';

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
    let have = (await stat(incomplete).catch(() => undefined))?.size ?? 0;
    if (have > size) {
      await rm(incomplete, { force: true });
      have = 0;
    }
    if (have > 0) have = await hashLeftover(incomplete, have, verifier, onBytes, signal);
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
    await writeStreamToPartial(incomplete, have, await openStream(have), verifier, onBytes);
    verifier.assertComplete();
    await cacheWrite(blob, () => rename(incomplete, blob));
  } catch (error) {
    if (error instanceof IntegrityError) await rm(incomplete, { force: true }).catch(() => undefined);
    throw error;
  }
}
