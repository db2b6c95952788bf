import { describe, expect, it } from 'vitest';
import { ConcatKvCache } from '../../src/core/concat-kv-cache.js';
import { createKvCache } from '../../src/core/create-kv-cache.js';
import { InPlaceKvCache } from '../../src/core/in-place-kv-cache.js';
import { float32 } from '../../src/core/tensor.js';
import type { LlmConfig } from '../../src/spec/llm-config.js';

const llm = { numLayers: 1, numKeyValueHeads: 2, headDim: 4, hiddenSize: 8 } as LlmConfig;

/** The dims of the first layer's key and value feeds after reserving 3 slots. */
function feedDims(cache: ReturnType<typeof createKvCache>) {
  cache.reserve(3);
  const feeds = cache.stepInputs(float32([1, 1, 8], new Float32Array(8)), 1);
  return [feeds['past_key_values.0.key']?.dims, feeds['past_key_values.0.value']?.dims];
}

// Each manifest gets the cache its llm graph was built for (docs/model-format.md, "KV cache").
describe('createKvCache', () => {
  it('reads a folder converted before the in-place cache (no kvCache) as concat', () => {
    expect(createKvCache({}, llm)).toBeInstanceOf(ConcatKvCache);
    expect(createKvCache({ kvCache: 'concat' }, llm)).toBeInstanceOf(ConcatKvCache);
  });

  it('feeds the values transposed to folders that say values-transposed (what unipic convert writes)', () => {
    const cache = createKvCache({ kvCache: 'in-place', kvCacheLayout: 'values-transposed' }, llm);
    expect(cache).toBeInstanceOf(InPlaceKvCache);
    expect(feedDims(cache)).toEqual([
      [1, 2, 3, 4],
      [1, 2, 4, 3],
    ]);
  });

  it('feeds the keys transposed to in-place folders without kvCacheLayout (the first in-place graphs)', () => {
    expect(feedDims(createKvCache({ kvCache: 'in-place' }, llm))).toEqual([
      [1, 2, 4, 3],
      [1, 2, 3, 4],
    ]);
  });
});
