import type { LlmConfig } from '../spec/llm-config.js';
import { ConcatKvCache } from './concat-kv-cache.js';
import { InPlaceKvCache } from './in-place-kv-cache.js';
import type { KvCacheKind } from '../spec/manifest.js';
import type { LlmKvCache } from './llm-kv-cache.js';

/** The host cache for a model's `llm` graph: its manifest's `kvCache` kind (absent: `concat`, folders converted before the in-place cache). */
export function createKvCache(kind: KvCacheKind | undefined, llm: LlmConfig, rows = 1): LlmKvCache {
  return kind === 'in-place' ? new InPlaceKvCache(llm, rows) : new ConcatKvCache(llm, rows);
}
