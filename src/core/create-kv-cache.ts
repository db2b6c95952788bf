import type { LlmConfig } from '../spec/llm-config.js';
import { ConcatKvCache } from './concat-kv-cache.js';
import { InPlaceKvCache } from './in-place-kv-cache.js';
import type { Manifest } from '../spec/manifest.js';
import type { LlmKvCache } from './llm-kv-cache.js';

/** What a manifest says about its `llm` graph's cache. */
export type KvCacheFormat = Pick<Manifest, 'kvCache' | 'kvCacheLayout'>;

/**
 * The host cache for a model's `llm` graph, as its manifest says: `kvCache` (absent: `concat`,
 * folders converted before the in-place cache) and, for `in-place`, `kvCacheLayout` (absent:
 * `keys-transposed`, the first in-place graphs).
 */
export function createKvCache(format: KvCacheFormat, llm: LlmConfig, rows = 1): LlmKvCache {
  if (format.kvCache !== 'in-place') return new ConcatKvCache(llm, rows);
  return new InPlaceKvCache(llm, rows, undefined, format.kvCacheLayout ?? 'keys-transposed');
}
