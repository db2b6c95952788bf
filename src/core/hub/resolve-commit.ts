import { ModelNotFoundError } from '../../errors/model-not-found-error.js';
import { fetchHubSnapshot, type HubSettings } from './hub-client.js';
import type { HubSnapshot } from './hub-files.js';
import { formatHubId, isCommitHash } from './hub-id.js';

/** Where a platform keeps what a branch or tag pointed to (Node: `refs/` in the HF cache; browsers: the Cache API). */
export interface HubRefStore {
  readonly description: string;
  read(repo: string, revision: string): Promise<string | undefined>;
  write(repo: string, revision: string, commit: string): Promise<void>;
}

export interface ResolvedCommit {
  readonly commit: string;
  /** The listing, when it had to be fetched to learn the commit (saves a second request). */
  readonly snapshot?: HubSnapshot;
}

/**
 * The commit a load reads. A commit id is itself; a branch or tag comes from the recorded ref
 * unless `revalidate` asks the Hub again (as a cached `unipic.json` is used as is for URL
 * sources, so a cached model loads with zero requests); offline without a recorded ref fails.
 */
export async function resolveCommit(
  settings: HubSettings,
  refs: HubRefStore,
  target: { repo: string; revision: string; subfolder: string },
  options: { offline: boolean; revalidate: boolean; signal?: AbortSignal },
): Promise<ResolvedCommit> {
  if (isCommitHash(target.revision)) return { commit: target.revision };
  if (options.offline || !options.revalidate) {
    const cached = await refs.read(target.repo, target.revision);
    if (cached !== undefined) return { commit: cached };
  }
  if (options.offline) {
    throw new ModelNotFoundError(
      `${formatHubId(target)} is not in ${refs.description} (no record of what "${target.revision}" points to) and offline is set, so the Hub was not contacted`,
      { details: { reason: 'offline', repo: target.repo, revision: target.revision, missing: ['unipic.json'] } },
    );
  }
  const snapshot = await fetchHubSnapshot(settings, target.repo, target.revision, options.signal);
  await refs.write(target.repo, target.revision, snapshot.commit);
  return { commit: snapshot.commit, snapshot };
}
