import { fetchHubSnapshot, type HubSettings } from '../../core/hub/hub-client.js';
import type { HubRepoFile } from '../../core/hub/hub-files.js';
import { isCommitHash } from '../../core/hub/hub-id.js';
import type { HubEnvironment } from './hub-environment.js';
import type { HfRepoCache } from './hf-repo-cache.js';
import { listingRecordPath, readListingRecord, writeListingRecord } from './listing-record.js';

/** A repository's files at the commit a revision resolved to. */
export interface RepoListing {
  readonly commit: string;
  readonly files: readonly HubRepoFile[];
  /** Resolved by a request now: `refs/<revision>` is written once the selected files are present. */
  readonly resolved: boolean;
}

export interface ListingContext {
  readonly settings: HubSettings;
  readonly environment: HubEnvironment;
  readonly offline: boolean;
  readonly signal: AbortSignal | undefined;
}

/**
 * The listing of `repo` at `revision`. Online: one request (which also gives sizes and hashes, and
 * is kept as a record for offline use), none for a commit whose listing is recorded. Offline:
 * `refs/<revision>` and the record (else the snapshot folder) stand in for it; `undefined` when the
 * cache has no ref for the revision.
 */
export async function repoListing(cache: HfRepoCache, repo: string, revision: string, context: ListingContext): Promise<RepoListing | undefined> {
  const { settings, environment } = context;
  const record = (commit: string) => listingRecordPath(environment.unipicCacheDir, settings.endpoint, repo, commit);
  if (context.offline) {
    const commit = await cache.readRef(revision);
    if (commit === undefined) return undefined;
    return { commit, files: (await readListingRecord(record(commit))) ?? (await cache.listSnapshot(commit)), resolved: false };
  }
  // A commit's listing never changes: a recorded one saves the request.
  const recorded = isCommitHash(revision) ? await readListingRecord(record(revision)) : undefined;
  if (recorded) return { commit: revision, files: recorded, resolved: false };
  const snapshot = await fetchHubSnapshot(settings, repo, revision, context.signal);
  await writeListingRecord(record(snapshot.commit), snapshot.files);
  return { commit: snapshot.commit, files: snapshot.files, resolved: true };
}
