import { openModelFiles } from '../core/sources/open-model-files.js';
import type { ModelFiles } from '../core/sources/model-files.js';
import { createUrlSource } from '../core/sources/fetch-source.js';
import { sourceFromLocation, type ModelLocation } from '../core/sources/model-location.js';
import { networkOptionsOf, parseSourceOptions, type SourceOptionsInput } from '../core/sources/source-options.js';
import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { isHubId } from '../core/hub/hub-id.js';
import { CacheApiCache } from './cache-api-cache.js';
import { openBrowserHubModel } from './open-browser-hub-model.js';
import { createNobleSha256 } from './noble-sha256.js';

/**
 * Open a model in a browser or worker: an `hf:` id, a URL (absolute, or relative to the page), a
 * file map or a fetch function. Remote files are kept in the Cache API and delivered as object URLs; with
 * `cache: false` (or no Cache API) they are downloaded into memory and delivered as bytes.
 */
export async function openBrowserModel(
  location: ModelLocation,
  options: SourceOptionsInput & { readonly signal?: AbortSignal; readonly caches?: CacheStorage } = {},
): Promise<ModelFiles> {
  const { signal, caches, ...rest } = options;
  const parsed = parseSourceOptions(rest);
  if (isHubId(location)) return openBrowserHubModel(location, parsed, caches ?? (globalThis as { caches?: CacheStorage }).caches, signal);
  const network = networkOptionsOf(parsed);
  const source = sourceFromLocation(location, parsed, (text) => {
    const page = (globalThis as { location?: { href: string } }).location?.href;
    if (!page) {
      throw new InvalidOptionsError(`"${text}" is not an absolute http(s) URL and there is no page to resolve it against`, {
        details: { issues: [{ path: 'model', message: 'expected an absolute http(s) URL' }] },
      });
    }
    return createUrlSource(new URL(text, page), { network, ...(parsed.fetch ? { fetch: parsed.fetch } : {}) });
  });
  const storage = caches ?? (globalThis as { caches?: CacheStorage }).caches;
  const cache =
    parsed.cache && source.cacheKey !== undefined && storage
      ? new CacheApiCache({
          key: source.cacheKey,
          caches: storage,
          ...(parsed.cacheName ? { cacheName: parsed.cacheName } : {}),
        })
      : undefined;
  return openModelFiles({
    source,
    ...(cache ? { cache } : {}),
    createHash: createNobleSha256,
    offline: parsed.offline,
    revalidate: parsed.revalidate,
    verify: parsed.verify,
    prefer: 'url',
    network,
    ...(signal ? { signal } : {}),
  });
}
