import { createKvCache, type KvCacheFormat } from '../../../core/create-kv-cache.js';
import type { LlmKvCache } from '../../../core/llm-kv-cache.js';
import type { ModelConfig } from '../manifest.js';
import type { UniPic1GraphRunner as Graphs } from '../call-context.js';
import { int64, takeFloat32 } from '../../../core/tensor.js';
import { prefillCache } from './chunked-prefill.js';

/** The text (and source image) prefix's KV cache, computed once and reused by every iteration. */
export interface Prefix {
  readonly rows: number;
  /** Padded prefix length P. */
  readonly length: number;
  /** `[rows, P]`, 1 on real tokens, 0 on right padding. */
  readonly mask: Int32Array;
  /** Real tokens per row (where each row's image block positions start). */
  readonly validLengths: readonly number[];
  /** The prefix's cache, restricted to each row's real tokens and continuing at its unpadded length; only read. */
  readonly cache: LlmKvCache;
  dispose(): void;
}

export interface PrefixInput {
  /** Right-padded ids `[rows][P]`; image slots hold any id (their embeddings are replaced). */
  readonly ids: readonly (readonly number[])[];
  readonly mask: readonly (readonly number[])[];
  /** Visual tokens spliced into every row at `start`: `[length, H]` (image rows, then buffers). */
  readonly image?: { readonly start: number; readonly embeds: Float32Array; readonly length: number };
}

/** Token embeddings for `[rows][T]` ids. */
export async function embedTokens(graphs: Graphs, ids: readonly (readonly number[])[], signal?: AbortSignal) {
  const rows = ids.length;
  const length = ids[0]?.length ?? 0;
  const out = await graphs.run('embed', { input_ids: int64([rows, length], ids.flat()) }, { signal });
  return takeFloat32(out.inputs_embeds);
}

/**
 * Prefill as the reference does: no attention mask (all ones) and positions 0..P−1, so padded rows
 * run causally over their pads — harmless, because every later call masks those keys.
 */
export async function buildPrefix(graphs: Graphs, config: ModelConfig, input: PrefixInput, kvCache: KvCacheFormat, signal?: AbortSignal): Promise<Prefix> {
  const H = config.llm.hiddenSize;
  const rows = input.ids.length;
  const length = input.ids[0].length;
  const embeds = (await embedTokens(graphs, input.ids, signal)).data;
  if (input.image) {
    const { start, embeds: image, length: imageLength } = input.image;
    if (image.length !== imageLength * H) throw new Error('image embeddings do not match their slot count');
    for (let row = 0; row < rows; row++) embeds.set(image, (row * length + start) * H);
  }
  const cache = createKvCache(kvCache, config.llm, rows);
  try {
    await prefillCache(graphs, cache, embeds, length, { signal });
  } catch (error) {
    cache.clear();
    throw error;
  }
  const mask = Int32Array.from(input.mask.flat());
  const validLengths = input.mask.map((row) => row.reduce((a, b) => a + b, 0));
  // Every later call attends each row's own prompt only and continues at its unpadded length.
  cache.restrict(mask, validLengths);
  return { rows, length, mask, validLengths, cache, dispose: () => cache.clear() };
}
