import { DEFAULT_HUB_ENDPOINT } from '../core/hub/hub-options.js';
import { hubRepoPath, type HubSettings } from '../core/hub/hub-client.js';
import { parseHubId } from '../core/hub/hub-id.js';
import { createHubSource } from '../core/hub/hub-source.js';
import { resolveCommit, type HubRefStore } from '../core/hub/resolve-commit.js';
import type { ModelFiles } from '../core/sources/model-files.js';
import { openModelFiles } from '../core/sources/open-model-files.js';
import { networkOptionsOf, type SourceOptions } from '../core/sources/source-options.js';
import { CacheApiCache, DEFAULT_CACHE_NAME } from './cache-api-cache.js';
import { toCacheApiError } from './cache-api-error.js';
import { createNobleSha256 } from './noble-sha256.js';

/**
 * `hf:<org>/<name>[@<revision>][/<folder>]` in a browser: there is no environment, so token,
 * endpoint and revision come from the `hub` option. Files are kept in the Cache API under their
 * `/resolve/<commit>/` URLs, and what a branch pointed to is kept there too, so a cached model
 * loads with zero requests (and offline).
 */
export async function openBrowserHubModel(id: string, options: SourceOptions, storage: CacheStorage | undefined, signal?: AbortSignal): Promise<ModelFiles> {
  const target = parseHubId(id);
  const network = networkOptionsOf(options);
  const settings: HubSettings = {
    endpoint: (options.hub?.endpoint ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, ''),
    ...(options.hub?.token !== undefined ? { token: options.hub.token } : {}),
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    network,
  };
  const revision = target.revision ?? options.hub?.revision ?? 'main';
  const cacheName = options.cacheName ?? DEFAULT_CACHE_NAME;
  const useCache = options.cache && storage !== undefined;
  const refKey = (repo: string, name: string) => `${settings.endpoint}/api/models/${hubRepoPath(repo)}/revision/${encodeURIComponent(name)}`;
  const refs: HubRefStore = {
    description: `Cache API "${cacheName}"`,
    read: async (repo, name) => {
      if (!useCache) return undefined;
      const response = await (await storage.open(cacheName)).match(refKey(repo, name));
      const commit = (await response?.text())?.trim();
      return commit && /^[0-9a-f]{40}$/.test(commit) ? commit : undefined;
    },
    write: async (repo, name, commit) => {
      if (!useCache) return;
      const cache = await storage.open(cacheName);
      await cache.put(refKey(repo, name), new Response(commit, { headers: { 'content-type': 'text/plain' } })).catch((error: unknown) => {
        throw toCacheApiError(error, refs.description);
      });
    },
  };
  const { commit } = await resolveCommit(
    settings,
    refs,
    { repo: target.repo, revision, subfolder: target.subfolder },
    { offline: options.offline, revalidate: options.revalidate, ...(signal ? { signal } : {}) },
  );
  const source = createHubSource(settings, { repo: target.repo, commit, subfolder: target.subfolder });
  const cache =
    useCache && source.cacheKey !== undefined
      ? new CacheApiCache({ key: source.cacheKey, caches: storage, ...(options.cacheName ? { cacheName: options.cacheName } : {}) })
      : undefined;
  return openModelFiles({
    source,
    ...(cache ? { cache } : {}),
    createHash: createNobleSha256,
    offline: options.offline,
    revalidate: false,
    verify: options.verify,
    prefer: 'url',
    network,
    ...(signal ? { signal } : {}),
  });
}
