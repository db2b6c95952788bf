import type { DeviceTensor } from '../../../spec/backend.js';
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
  /** Feeds `past_key_values.{i}.key|value` for the llm graph. */
  readonly past: Readonly<Record<string, DeviceTensor>>;
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
export async function buildPrefix(graphs: Graphs, config: ModelConfig, input: PrefixInput, signal?: AbortSignal): Promise<Prefix> {
  const H = config.llm.hiddenSize;
  const rows = input.ids.length;
  const length = input.ids[0].length;
  const embeds = (await embedTokens(graphs, input.ids, signal)).data;
  if (input.image) {
    const { start, embeds: image, length: imageLength } = input.image;
    if (image.length !== imageLength * H) throw new Error('image embeddings do not match their slot count');
    for (let row = 0; row < rows; row++) embeds.set(image, (row * length + start) * H);
  }
  const past = await prefillCache(graphs, config, embeds, rows, length, { signal });
  const mask = Int32Array.from(input.mask.flat());
  return {
    rows,
    length,
    mask,
    validLengths: input.mask.map((row) => row.reduce((a, b) => a + b, 0)),
    past,
    dispose: () => {
      for (const t of Object.values(past)) t.dispose();
    },
  };
}
