import type { HubSettings } from '../../core/hub/hub-client.js';
import type { HubFileRequest, HubRepoFile } from '../../core/hub/hub-files.js';
import { formatHubId } from '../../core/hub/hub-id.js';
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
import { repoListing } from './repo-listing.js';
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

/** What `planHubFiles` found: the snapshots, every selected file to make present, and the refs to record once they are. */
export interface HubFetchPlan {
  readonly snapshots: FetchedSnapshot[];
  readonly planned: SnapshotFilePlan[];
  readonly progress: LoadProgress;
  readonly progressEntries: FileEntry[];
  readonly verifications: BlobVerifications;
  readonly settings: HubSettings;
  readonly unipicCacheDir: string;
  readonly offline: boolean;
  readonly signal: AbortSignal | undefined;
  /** Records what each resolved branch pointed to: call once every file is present. */
  writeRefs(): Promise<void>;
}

/**
 * Download what each request selects into the standard Hugging Face cache, reusing what is already
 * there (this tool's or Python's downloads) without any request for it. Each revision is resolved
 * to its commit by its listing (repo-listing.ts); offline, anything missing is named in one
 * `ModelNotFoundError` (`details.reason: 'offline'`, `details.missing`).
 */
export async function fetchHubFiles(requests: readonly HubFileRequest[], options: FetchHubFilesOptions = {}): Promise<FetchedSnapshot[]> {
  const plan = await planHubFiles(requests, options);
  for (const [index, file] of plan.planned.entries()) await ensurePlannedFile(plan, index, file);
  await plan.writeRefs();
  return plan.snapshots;
}

/** Makes one planned file present in the snapshot (cache hit or download), with its progress. */
export async function ensurePlannedFile(plan: HubFetchPlan, index: number, file: SnapshotFilePlan): Promise<void> {
  throwIfAborted(plan.signal);
  const fileProgress = plan.progress.begin(plan.progressEntries[index]);
  const phase = await ensureSnapshotFile(file, {
    network: plan.settings.network,
    signal: plan.signal,
    offline: plan.offline,
    verifications: plan.verifications,
    onBytes: (filePhase, bytes) => fileProgress.report(filePhase, bytes),
  });
  fileProgress.complete(phase);
}

/**
 * The first half of `fetchHubFiles`: listings (one request per repository, none when pinned and
 * recorded, none offline), selections, and the files to make present; nothing is downloaded yet.
 */
export async function planHubFiles(requests: readonly HubFileRequest[], options: FetchHubFilesOptions = {}): Promise<HubFetchPlan> {
  const { settings, environment } = nodeHubSettings(options);
  const offline = options.offline === true || environment.offline;
  const signal = options.signal;
  const snapshots: FetchedSnapshot[] = [];
  const planned: SnapshotFilePlan[] = [];
  const missing: string[] = [];
  const refsToWrite: { cache: HfRepoCache; revision: string; commit: string }[] = [];
  const listingContext = { settings, environment, offline, signal };
  for (const request of requests) {
    throwIfAborted(signal);
    if (request.when && !request.when(snapshots)) continue;
    const cache = new HfRepoCache(environment.cacheDir, request.repo);
    const listing = await repoListing(cache, request.repo, request.revision, listingContext);
    if (listing === undefined) {
      missing.push(`${formatHubId({ repo: request.repo, revision: request.revision })} (no refs/${request.revision} in ${cache.directory})`);
      continue;
    }
    const { commit, files } = listing;
    if (listing.resolved) refsToWrite.push({ cache, revision: request.revision, commit });
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
  if (missing.length > 0) throw offlineMissing(environment.cacheDir, missing);
  const progressEntries: FileEntry[] = planned.map(({ file, label }) => ({ path: label, size: file.size, sha256: file.sha256 ?? '' }));
  return {
    snapshots,
    planned,
    progress: new LoadProgress(progressEntries, options.onProgress),
    progressEntries,
    verifications: new BlobVerifications(environment.unipicCacheDir),
    settings,
    unipicCacheDir: environment.unipicCacheDir,
    offline,
    signal,
    writeRefs: async () => {
      for (const { cache, revision, commit } of refsToWrite) await cache.writeRef(revision, commit);
    },
  };
}

/**
 * The files of `repo` at `revision` (for recognising which family's checkpoint a repository holds):
 * the listing request `fetchHubFiles` would make, or offline the cached ref and listing.
 */
export async function listHubRepo(repo: string, revision: string, options: FetchHubFilesOptions = {}): Promise<readonly HubRepoFile[]> {
  const { settings, environment } = nodeHubSettings(options);
  const offline = options.offline === true || environment.offline;
  const cache = new HfRepoCache(environment.cacheDir, repo);
  const listing = await repoListing(cache, repo, revision, { settings, environment, offline, signal: options.signal });
  if (listing === undefined) throw offlineMissing(environment.cacheDir, [`${formatHubId({ repo, revision })} (no refs/${revision} in ${cache.directory})`]);
  return listing.files;
}

function offlineMissing(cacheDir: string, missing: readonly string[]): ModelNotFoundError {
  return new ModelNotFoundError(`Offline (HF_HUB_OFFLINE or offline: true) and the Hugging Face cache at ${cacheDir} lacks: ${missing.join(', ')}`, {
    details: { reason: 'offline', missing: [...missing], cacheDir },
  });
}
