import { rm } from 'node:fs/promises';
import { fetchHubSnapshot } from '../../core/hub/hub-client.js';
import { blobIdOf, type HubFileRequest, type HubRepoFile } from '../../core/hub/hub-files.js';
import { formatHubId, isCommitHash } from '../../core/hub/hub-id.js';
import { createHubSource } from '../../core/hub/hub-source.js';
import { openFileStream } from '../../core/sources/file-stream.js';
import { LoadProgress } from '../../core/sources/load-progress.js';
import { throwIfAborted } from '../../errors/abort-error.js';
import { HubError } from '../../errors/hub-error.js';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { ModelNotFoundError } from '../../errors/model-not-found-error.js';
import type { FileEntry } from '../../spec/manifest.js';
import type { LoadProgressCallback } from '../../spec/progress.js';
import { IntegrityError } from '../../errors/integrity-error.js';
import { readFileChunks } from '../read-file-chunks.js';
import { BlobVerifications } from './blob-verification.js';
import { downloadBlob } from './hf-blob-download.js';
import { HfRepoCache } from './hf-repo-cache.js';
import { hubFileVerifier } from './hub-file-verifier.js';
import { listingRecordPath, readListingRecord, writeListingRecord } from './listing-record.js';
import { nodeHubSettings, type NodeHubInputs } from './hub-settings.js';

export interface FetchHubFilesOptions extends NodeHubInputs {
  /** No request at all: every file from the HF cache (also set by `HF_HUB_OFFLINE`). */
  readonly offline?: boolean;
  readonly signal?: AbortSignal;
  /**
   * Byte progress over every selected file of every request (`total` fixed before the first
   * byte); `file` is `<repo>/<path>`, `phase` `cache-read` for files already in the cache.
   */
  readonly onProgress?: LoadProgressCallback;
}

/** One request's result: the snapshot folder in the HF cache holding the selected files. */
export interface FetchedSnapshot {
  readonly repo: string;
  readonly revision: string;
  readonly commit: string;
  /** `<cache>/models--{org}--{name}/snapshots/<commit>`: a folder in the official layout. */
  readonly directory: string;
  readonly files: readonly string[];
}

interface PlannedFile {
  readonly cache: HfRepoCache;
  readonly commit: string;
  readonly file: HubRepoFile;
  readonly label: string;
  readonly source: ReturnType<typeof createHubSource>;
}

/**
 * Download what each request selects into the standard Hugging Face cache, reusing what is already
 * there (this tool's or Python's downloads) without any request for it. Online, each revision is
 * resolved to its commit with one listing request (which also gives sizes and hashes, and is kept
 * as a record for offline use); offline, `refs/<revision>` and that record (else the snapshot
 * folder) stand in for it, and anything missing is named in one `ModelNotFoundError`
 * (`details.reason: 'offline'`, `details.missing`).
 */
export async function fetchHubFiles(requests: readonly HubFileRequest[], options: FetchHubFilesOptions = {}): Promise<FetchedSnapshot[]> {
  const { settings, environment } = nodeHubSettings(options);
  const offline = options.offline === true || environment.offline;
  const signal = options.signal;
  const snapshots: FetchedSnapshot[] = [];
  const planned: PlannedFile[] = [];
  const missing: string[] = [];
  const refsToWrite: { cache: HfRepoCache; revision: string; commit: string }[] = [];
  for (const request of requests) {
    throwIfAborted(signal);
    const cache = new HfRepoCache(environment.cacheDir, request.repo);
    let commit: string;
    let files: readonly HubRepoFile[];
    if (offline) {
      const cached = await cache.readRef(request.revision);
      if (cached === undefined) {
        missing.push(`${formatHubId({ repo: request.repo, revision: request.revision })} (no refs/${request.revision} in ${cache.directory})`);
        continue;
      }
      commit = cached;
      const record = listingRecordPath(environment.unipicCacheDir, settings.endpoint, request.repo, commit);
      files = (await readListingRecord(record)) ?? (await cache.listSnapshot(commit));
    } else {
      // A commit's listing never changes: a recorded one saves the request.
      const recorded = isCommitHash(request.revision)
        ? await readListingRecord(listingRecordPath(environment.unipicCacheDir, settings.endpoint, request.repo, request.revision))
        : undefined;
      if (recorded) {
        commit = request.revision;
        files = recorded;
      } else {
        const snapshot = await fetchHubSnapshot(settings, request.repo, request.revision, signal);
        commit = snapshot.commit;
        files = snapshot.files;
        refsToWrite.push({ cache, revision: request.revision, commit });
        await writeListingRecord(listingRecordPath(environment.unipicCacheDir, settings.endpoint, request.repo, commit), files);
      }
    }
    let selected: string[];
    try {
      selected = request.select(files, { repo: request.repo, commit });
    } catch (error) {
      if (!offline || !(error instanceof HubError) || error.code !== 'HUB_ENTRY_NOT_FOUND') throw error;
      missing.push(...(error.details.missing ?? []).map((path) => `${request.repo}/${path}`));
      continue;
    }
    const byPath = new Map(files.map((file) => [file.path, file]));
    const source = createHubSource(settings, { repo: request.repo, commit, subfolder: '' });
    for (const path of selected) {
      const file = byPath.get(path);
      if (!file) throw new Error(`the file selection of ${request.repo} returned ${path}, which is not in the listing`);
      planned.push({ cache, commit, file, label: `${request.repo}/${path}`, source });
    }
    snapshots.push({ repo: request.repo, revision: request.revision, commit, directory: cache.snapshotDirectory(commit), files: selected });
  }
  if (offline) {
    for (const { cache, commit, file, label } of planned) {
      if ((await cache.snapshotSize(commit, file.path)) !== file.size) missing.push(label);
    }
  }
  if (missing.length > 0) {
    throw new ModelNotFoundError(
      `Offline (HF_HUB_OFFLINE or offline: true) and the Hugging Face cache at ${environment.cacheDir} lacks: ${missing.join(', ')}`,
      { details: { reason: 'offline', missing, cacheDir: environment.cacheDir } },
    );
  }
  const progressEntries: FileEntry[] = planned.map(({ file, label }) => ({ path: label, size: file.size, sha256: file.sha256 ?? '' }));
  const progress = new LoadProgress(progressEntries, options.onProgress);
  const verifications = new BlobVerifications(environment.unipicCacheDir);
  for (const [index, plan] of planned.entries()) {
    throwIfAborted(signal);
    const fileProgress = progress.begin(progressEntries[index]);
    const phase = await ensureFile(plan, {
      network: settings.network,
      signal,
      offline,
      verifications,
      onBytes: (filePhase, bytes) => fileProgress.report(filePhase, bytes),
    });
    fileProgress.complete(phase);
  }
  for (const { cache, revision, commit } of refsToWrite) await cache.writeRef(revision, commit);
  return snapshots;
}

interface EnsureContext {
  readonly network: Parameters<typeof openFileStream>[2]['network'];
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
async function ensureFile(plan: PlannedFile, context: EnsureContext): Promise<'cache-read' | 'download'> {
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
  const verifier = hubFileVerifier(file, label);
  await readFileChunks(
    path,
    (chunk) => {
      verifier.update(chunk);
      context.onBytes('cache-read', verifier.bytes);
    },
    context.signal ? { signal: context.signal } : {},
  );
  try {
    verifier.assertComplete();
  } catch (error) {
    if (error instanceof IntegrityError) return false;
    throw error;
  }
  await context.verifications.record(path, blobId);
  return true;
}
