import { llmStepInputs } from '../../../core/llm-step-inputs.js';
import type { DeviceTensor, HostTensor } from '../../../spec/backend.js';
import type { ModelConfig } from '../manifest.js';
import { disposeAll, emptyPast, presentNames, presentsAsPast } from '../../../core/kv-cache.js';
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
 * The KV cache of `embeds` (`[rows, length, H]`) with an all-ones mask and positions continuing
 * from `past` (length `pastLength`), built `chunk` tokens per llm call. Returns the cache as
 * `past_key_values.*` feeds; `past` itself is left to the caller.
 */
export async function prefillCache(
  graphs: Graphs,
  config: ModelConfig,
  embeds: Float32Array,
  rows: number,
  length: number,
  options: { past?: Readonly<Record<string, DeviceTensor | HostTensor>>; pastLength?: number; chunk?: number; signal?: AbortSignal } = {},
): Promise<Record<string, DeviceTensor>> {
  const H = config.llm.hiddenSize;
  const chunk = Math.max(1, options.chunk ?? PREFILL_CHUNK);
  const names = presentNames(config.llm.numLayers);
  let past: Readonly<Record<string, DeviceTensor | HostTensor>> = options.past ?? emptyPast(config, rows);
  let owned: Record<string, DeviceTensor> | undefined;
  let done = options.pastLength ?? 0;
  try {
    for (let start = 0; start < length; start += chunk) {
      const size = Math.min(chunk, length - start);
      const slice = new Float32Array(rows * size * H);
      for (let row = 0; row < rows; row++) slice.set(embeds.subarray((row * length + start) * H, (row * length + start + size) * H), row * size * H);
      const out = await graphs.run('llm', llmStepInputs({ embeds: float32([rows, size, H], slice), rows, length: size, pastLength: done, past }), {
        signal: options.signal,
        outputs: names,
        keepOnDevice: names,
      });
      disposeAll(owned);
      owned = presentsAsPast(out);
      past = owned;
      done += size;
    }
  } catch (error) {
    disposeAll(owned);
    throw error;
  }
  if (!owned) throw new Error('prefillCache needs at least one token');
  return owned;
}
