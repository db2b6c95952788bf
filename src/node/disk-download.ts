import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CacheFileContext } from '../core/cache/model-cache.js';
import type { OpenFileStream } from '../core/sources/file-stream.js';
import { FileVerifier } from '../core/sources/file-verifier.js';
import type { HashFactory } from '../core/sources/incremental-hash.js';
import { IntegrityError } from '../errors/integrity-error.js';
import type { FileEntry } from '../spec/manifest.js';
import { cacheWrite } from './cache-fs-error.js';
import type { CachedFilePaths } from './disk-cache-layout.js';
import { hashLeftover, writeStreamToPartial } from './partial-download.js';
import { writeRecord } from './verification-record.js';

/**
 * Download one file into the cache: bytes go to `<path>.partial` (in the bookkeeping folder) and
 * only a verified file is renamed onto its final path, so the final path never holds a partial or
 * wrong file. A left-over partial is resumed when the server proves, via its validator, that it
 * still sends the same file; otherwise it is restarted. An integrity failure deletes the partial;
 * an abort or a network failure keeps it for the next attempt.
 */
export async function downloadIntoCache(
  paths: CachedFilePaths,
  entry: FileEntry,
  openStream: OpenFileStream,
  context: CacheFileContext,
  createHash: HashFactory,
): Promise<void> {
  await cacheWrite(paths.file, async () => {
    await mkdir(dirname(paths.file), { recursive: true });
    await mkdir(dirname(paths.partial), { recursive: true });
  });
  try {
    await download(paths, entry, openStream, context, createHash);
  } catch (error) {
    if (error instanceof IntegrityError) await discardPartial(paths);
    throw error;
  }
}

async function download(paths: CachedFilePaths, entry: FileEntry, openStream: OpenFileStream, context: CacheFileContext, createHash: HashFactory): Promise<void> {
  const verifier = new FileVerifier(entry, createHash);
  const onBytes = (loaded: number) => context.onBytes('download', loaded);
  const leftover = await usableLeftover(paths, entry);
  if (leftover?.size === entry.size) {
    // Complete but never renamed (the process ended between the last byte and the rename).
    await hashLeftover(paths.partial, entry.size, verifier, onBytes, context.signal);
    try {
      verifier.assertComplete();
      return await commit(paths, entry);
    } catch (error) {
      if (!(error instanceof IntegrityError)) throw error;
      await discardPartial(paths);
      verifier.reset();
    }
  }
  let have = leftover !== undefined && leftover.size < entry.size ? leftover.size : 0;
  if (have > 0) have = await hashLeftover(paths.partial, have, verifier, onBytes, context.signal);
  const stream = await openStream(have, have > 0 ? leftover?.validator : undefined);
  await writeStreamToPartial(paths.partial, have, stream, verifier, onBytes, () =>
    cacheWrite(paths.partialInfo, () =>
      stream.validator === undefined ? rm(paths.partialInfo, { force: true }) : writeFile(paths.partialInfo, JSON.stringify({ validator: stream.validator })),
    ),
  );
  verifier.assertComplete();
  await commit(paths, entry);
}

/** A left-over partial worth using: no larger than the file and, unless complete, with a validator. */
async function usableLeftover(paths: CachedFilePaths, entry: FileEntry): Promise<{ size: number; validator?: string } | undefined> {
  const info = await stat(paths.partial).catch(() => undefined);
  if (!info || info.size === 0) return undefined;
  const validator = await readFile(paths.partialInfo, 'utf8')
    .then((text) => (JSON.parse(text) as { validator?: unknown }).validator)
    .catch(() => undefined);
  if (info.size > entry.size || (info.size < entry.size && typeof validator !== 'string')) {
    await discardPartial(paths);
    return undefined;
  }
  return typeof validator === 'string' ? { size: info.size, validator } : { size: info.size };
}

async function commit(paths: CachedFilePaths, entry: FileEntry): Promise<void> {
  await cacheWrite(paths.file, () => rename(paths.partial, paths.file));
  await rm(paths.partialInfo, { force: true }).catch(() => undefined);
  await writeRecord(paths.verified, paths.file, entry);
}

async function discardPartial(paths: CachedFilePaths): Promise<void> {
  await rm(paths.partial, { force: true }).catch(() => undefined);
  await rm(paths.partialInfo, { force: true }).catch(() => undefined);
}
