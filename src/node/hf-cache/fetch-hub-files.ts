import { fetchHubSnapshot } from '../../core/hub/hub-client.js';
import type { HubFileRequest, HubRepoFile } from '../../core/hub/hub-files.js';
import { formatHubId, isCommitHash } from '../../core/hub/hub-id.js';
import { createHubSource } from '../../core/hub/hub-source.js';
import { LoadProgress } from '../../core/sources/load-progress.js';
import { throwIfAborted } from '../../errors/abort-error.js';
import { HubError } from '../../errors/hub-error.js';
import { ModelNotFoundError } from '../../errors/model-not-found-error.js';
import type { FileEntry } from '../../spec/manifest.js';
import type { LoadProgressCallback } from '../../spec/progress.js';
import { BlobVerifications } from './blob-verification.js';
import { ensureSnapshotFile, type SnapshotFilePlan } from './ensure-snapshot-file.js';
import { HfRepoCache } from './hf-repo-cache.js';
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
  const planned: SnapshotFilePlan[] = [];
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
    throw new ModelNotFoundError(`Offline (HF_HUB_OFFLINE or offline: true) and the Hugging Face cache at ${environment.cacheDir} lacks: ${missing.join(', ')}`, {
      details: { reason: 'offline', missing, cacheDir: environment.cacheDir },
    });
  }
  const progressEntries: FileEntry[] = planned.map(({ file, label }) => ({ path: label, size: file.size, sha256: file.sha256 ?? '' }));
  const progress = new LoadProgress(progressEntries, options.onProgress);
  const verifications = new BlobVerifications(environment.unipicCacheDir);
  for (const [index, plan] of planned.entries()) {
    throwIfAborted(signal);
    const fileProgress = progress.begin(progressEntries[index]);
    const phase = await ensureSnapshotFile(plan, {
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
