import { fetchHubSnapshot } from '../../core/hub/hub-client.js';
import { parseHubId } from '../../core/hub/hub-id.js';
import { createHubSource } from '../../core/hub/hub-source.js';
import { resolveCommit, type HubRefStore } from '../../core/hub/resolve-commit.js';
import type { ModelFiles } from '../../core/sources/model-files.js';
import { openModelFiles } from '../../core/sources/open-model-files.js';
import { networkOptionsOf, type SourceOptions } from '../../core/sources/source-options.js';
import { createNodeSha256 } from '../node-sha256.js';
import { BlobVerifications } from './blob-verification.js';
import { HfModelCache } from './hf-model-cache.js';
import { HfRepoCache } from './hf-repo-cache.js';
import { nodeHubSettings } from './hub-settings.js';

/**
 * `hf:<org>/<name>[@<revision>][/<folder>]` in Node: a converted model folder published on the
 * Hub, kept in the standard Hugging Face cache (shared with Python), with the usual manifest
 * checks, progress, offline mode (`offline: true` or `HF_HUB_OFFLINE=1`) and `cache: false`.
 */
export async function openNodeHubModel(id: string, options: SourceOptions, signal?: AbortSignal): Promise<ModelFiles> {
  const target = parseHubId(id);
  const network = networkOptionsOf(options);
  const { settings, environment } = nodeHubSettings({ network, ...(options.hub ? { hub: options.hub } : {}), ...(options.fetch ? { fetch: options.fetch } : {}) });
  const offline = options.offline || environment.offline;
  const revision = target.revision ?? options.hub?.revision ?? 'main';
  const repoCache = new HfRepoCache(environment.cacheDir, target.repo);
  const refs: HubRefStore = {
    description: `the Hugging Face cache at ${environment.cacheDir}`,
    read: (_repo, name) => repoCache.readRef(name),
    write: (_repo, name, commit) => (options.cache ? repoCache.writeRef(name, commit) : Promise.resolve()),
  };
  const resolved = await resolveCommit(
    settings,
    refs,
    { repo: target.repo, revision, subfolder: target.subfolder },
    { offline, revalidate: options.revalidate, ...(signal ? { signal } : {}) },
  );
  const source = createHubSource(settings, { repo: target.repo, commit: resolved.commit, subfolder: target.subfolder });
  const cache = options.cache
    ? new HfModelCache({
        repo: repoCache,
        commit: resolved.commit,
        subfolder: target.subfolder,
        verifications: new BlobVerifications(environment.unipicCacheDir),
        listing: () => (resolved.snapshot ? Promise.resolve(resolved.snapshot) : fetchHubSnapshot(settings, target.repo, resolved.commit, signal)),
      })
    : undefined;
  return openModelFiles({
    source,
    ...(cache ? { cache } : {}),
    createHash: createNodeSha256,
    offline,
    // What `revalidate` asks for (the newest unipic.json) is the ref resolution above: a commit's files never change.
    revalidate: false,
    verify: options.verify,
    prefer: 'path',
    network,
    ...(signal ? { signal } : {}),
  });
}
