import { fileURLToPath } from 'node:url';
import { openModelFiles } from '../core/sources/open-model-files.js';
import type { ModelFiles } from '../core/sources/model-files.js';
import { sourceFromLocation, type ModelLocation } from '../core/sources/model-location.js';
import { networkOptionsOf, parseSourceOptions, type SourceOptionsInput } from '../core/sources/source-options.js';
import { isHubId } from '../core/hub/hub-id.js';
import { defaultCacheDir } from './default-cache-dir.js';
import { createDirectorySource } from './directory-source.js';
import { DiskCache } from './disk-cache.js';
import { openNodeHubModel } from './hf-cache/open-node-hub-model.js';
import { createNodeSha256 } from './node-sha256.js';

/**
 * Open a model in Node: an `hf:` id (Hugging Face cache), an http(s) URL (cached on disk, delivered as paths), a local folder
 * (delivered as paths, never copied), a file map or a fetch function. Reads and validates
 * `unipic.json`; files are fetched by `resolve()` on the returned object.
 */
export async function openNodeModel(location: ModelLocation, options: SourceOptionsInput & { readonly signal?: AbortSignal } = {}): Promise<ModelFiles> {
  const { signal, ...rest } = options;
  const parsed = parseSourceOptions(rest);
  if (isHubId(location)) return openNodeHubModel(location, parsed, signal);
  const source = sourceFromLocation(location, parsed, (text) => createDirectorySource(text.startsWith('file:') ? fileURLToPath(text) : text));
  const cache = parsed.cache && source.cacheKey !== undefined ? new DiskCache({ root: parsed.cacheDir ?? defaultCacheDir(), key: source.cacheKey }) : undefined;
  return openModelFiles({
    source,
    ...(cache ? { cache } : {}),
    createHash: createNodeSha256,
    offline: parsed.offline,
    revalidate: parsed.revalidate,
    verify: parsed.verify,
    prefer: 'path',
    network: networkOptionsOf(parsed),
    ...(signal ? { signal } : {}),
  });
}
