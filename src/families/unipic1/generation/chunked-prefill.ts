import type { LlmKvCache } from '../../../core/llm-kv-cache.js';
import { runLlmStep } from '../../../core/llm-kv-cache.js';
import type { UniPic1GraphRunner as Graphs } from '../call-context.js';
import { float32 } from '../../../core/tensor.js';

/**
 * Prompt tokens per llm call when building a cache. A 1024 px image prompt in one call
 * materialises an attention-score tensor of all its positions squared; chunks of 512 cut it by
 * the chunk ratio for the same FLOPs (numbers: docs/performance.md, "Chunked prefill"). Causal
 * attention makes the result the same as one call.
 */
export const PREFILL_CHUNK = 512;

/**
 * Appends `embeds` (`[cache.rows, length, H]`) to `cache`, attending every held position and
 * continuing its positions, `chunk` tokens per llm call. The cache is sized for the whole prompt
 * first, so an in-place cache copies nothing while it fills. On failure the cache holds the
 * chunks done so far; the caller owns (and clears) it.
 */
export async function prefillCache(
  graphs: Graphs,
  cache: LlmKvCache,
  embeds: Float32Array,
  length: number,
  options: { chunk?: number; signal?: AbortSignal } = {},
): Promise<void> {
  if (length < 1) throw new RangeError('prefillCache needs at least one token');
  const rows = cache.rows;
  const H = embeds.length / (rows * length);
  const chunk = Math.max(1, options.chunk ?? PREFILL_CHUNK);
  cache.reserve(cache.length + length);
  for (let start = 0; start < length; start += chunk) {
    const size = Math.min(chunk, length - start);
    const slice = new Float32Array(rows * size * H);
    for (let row = 0; row < rows; row++) slice.set(embeds.subarray((row * length + start) * H, (row * length + start + size) * H), row * size * H);
    await runLlmStep(graphs, cache, float32([rows, size, H], slice), size, { append: true, signal: options.signal });
  }
}
