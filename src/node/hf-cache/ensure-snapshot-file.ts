import { rm } from 'node:fs/promises';
import { blobIdOf, type HubRepoFile } from '../../core/hub/hub-files.js';
import type { ModelSource } from '../../core/sources/model-source.js';
import { openFileStream } from '../../core/sources/file-stream.js';
import type { NetworkOptions } from '../../core/sources/network-options.js';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { ModelNotFoundError } from '../../errors/model-not-found-error.js';
import type { FileEntry } from '../../spec/manifest.js';
import { verifyFileInPlace } from '../verify-file-in-place.js';
import type { BlobVerifications } from './blob-verification.js';
import { downloadBlob } from './hf-blob-download.js';
import type { HfRepoCache } from './hf-repo-cache.js';
import { hubFileVerifier } from './hub-file-verifier.js';

/** One file of a snapshot to make present: where, which commit, what the Hub lists, how to fetch it. */
export interface SnapshotFilePlan {
  readonly cache: HfRepoCache;
  readonly commit: string;
  readonly file: HubRepoFile;
  /** `<repo>/<path>`, for messages and progress. */
  readonly label: string;
  readonly source: ModelSource;
}

export interface EnsureContext {
  readonly network: NetworkOptions;
  readonly signal: AbortSignal | undefined;
  readonly offline: boolean;
  readonly verifications: BlobVerifications;
  readonly onBytes: (phase: 'cache-read' | 'download', bytes: number) => void;
}

/**
 * The file in the snapshot, verified against the Hub's hash: a blob already there (unipic's or
 * Python's) is hashed once and then trusted by its record; a missing or corrupt one is
 * downloaded. Offline, a snapshot file that is not a link into `blobs/` (a copy) is checked in place.
 */
export async function ensureSnapshotFile(plan: SnapshotFilePlan, context: EnsureContext): Promise<'cache-read' | 'download'> {
  const { cache, commit, file, label, source } = plan;
  const blobId = blobIdOf(file);
  const snapshotFile = cache.snapshotFile(commit, file.path);
  if (blobId === undefined) {
    // Only an offline listing made from the snapshot folder lacks hashes; sizes are all there is.
    if (context.offline && (await cache.snapshotSize(commit, file.path)) === file.size) return 'cache-read';
    throw new InvalidModelError(`the Hub's listing gives no hash (LFS sha256 or git blob id) for ${label}, so it can be neither verified nor cached by content`, {
      details: { repo: cache.repo, revision: commit, path: file.path },
    });
  }
  const blob = cache.blobFile(blobId);
  const present = (await cache.blobSize(blobId)) === file.size ? blob : context.offline ? snapshotFile : undefined;
  if (present !== undefined && (await verifyInPlace(present, file, label, blobId, context))) {
    if (present === blob) await cache.link(commit, file.path, blobId);
    return 'cache-read';
  }
  if (context.offline) {
    throw new ModelNotFoundError(`Offline, and ${label} in the Hugging Face cache does not match the Hub's hash`, {
      details: { reason: 'offline', missing: [label] },
    });
  }
  if (present === blob) {
    await rm(blob, { force: true });
    await cache.unlink(commit, file.path);
  }
  const entry: FileEntry = { path: file.path, size: file.size, sha256: file.sha256 ?? '' };
  await downloadBlob(
    cache,
    blobId,
    file.size,
    hubFileVerifier(file, label),
    (offset) => openFileStream(source, entry, { offset, network: context.network, ...(context.signal ? { signal: context.signal } : {}) }),
    (bytes) => context.onBytes('download', bytes),
    context.signal,
  );
  await context.verifications.record(blob, blobId);
  await cache.link(commit, file.path, blobId);
  return 'download';
}

/** Whether the file at `path` has the Hub's hash: by its record, else by hashing it (then recorded). */
async function verifyInPlace(path: string, file: HubRepoFile, label: string, blobId: string, context: EnsureContext): Promise<boolean> {
  if (await context.verifications.isVerified(path, blobId)) {
    context.onBytes('cache-read', file.size);
    return true;
  }
  if (!(await verifyFileInPlace(path, hubFileVerifier(file, label), context.onBytes, context.signal))) return false;
  await context.verifications.record(path, blobId);
  return true;
}
