import { throwIfAborted } from '../../../errors/abort-error.js';
import { inverseFrequencies } from '../../../core/math/rotary-frequencies.js';
import { disposeAll, presentNames, presentsAsPast } from '../../../core/kv-cache.js';
import { float32, int64, takeFloat32 } from '../../../core/tensor.js';
import type { TextSamplingOptions, UniformRandom } from '../../../core/text/index.js';
import { selectToken } from '../../../core/text/sampling.js';
import type { DeviceTensor, HostTensor } from '../../../spec/backend.js';
import { mropeAngles, mropePositions } from '../../../core/qwen-vl/mrope-positions.js';
import type { EncodedImage } from './encode-image.js';
import { scatterImage } from '../../../core/qwen-vl/scatter-image.js';
import { emptyCache, type MqGraphs, type MqRuntimeConfig } from './mq-graphs.js';

/**
 * Qwen2.5-VL-7B-Instruct's generation_config.json, which the understanding script's `generate`
 * uses: sampling with top_k 1 (so deterministic), top_p 0.001, temperature 0.1, repetition 1.05.
 */
export const QWEN25_VL_GENERATION: TextSamplingOptions = { doSample: true, temperature: 0.1, topK: 1, topP: 0.001, repetitionPenalty: 1.05 };
export const QWEN25_VL_EOS = [151645, 151643] as const;

export interface UnderstandTokensOptions {
  readonly sampling: TextSamplingOptions;
  readonly maxTokens: number;
  readonly eosIds: readonly number[];
  readonly random?: UniformRandom;
  readonly signal?: AbortSignal;
  /** Called with each new token before the next step (streaming). */
  readonly onToken?: (id: number) => void;
  /** Checked after each token: true ends decoding (a caller's stop string matched). */
  readonly shouldStop?: () => boolean;
  /**
   * The KV cache of `ids[0, prefix.length)` from an earlier call (multi-turn reuse): only the rest is
   * prefilled. The cache is read, never disposed here.
   */
  readonly prefix?: { readonly length: number; readonly past: Record<string, DeviceTensor> };
  /**
   * Prefill `ids[0, splitAt)` on its own first and hand its cache to `onPrefix` (which then owns
   * it), so a later call on the same image can pass it as `prefix`.
   */
  readonly cacheUpTo?: { readonly splitAt: number; readonly onPrefix: (past: Record<string, DeviceTensor>) => void };
}

/**
 * Prompt ids (image pads already expanded) + the image's embeddings → new token ids, as
 * `Qwen2_5_VLForConditionalGeneration.generate` produces them: M-RoPE t/h/w positions over the
 * prompt, decode step k at position max+1+k on all three rows, a growing KV cache, and HF's logits
 * processors with the repetition penalty over **every id in the sequence, prompt included** (generate
 * gets input_ids here, unlike UniPic-1's embeddings-only call).
 */
export async function understandTokens(
  graphs: MqGraphs,
  config: MqRuntimeConfig,
  ids: readonly number[],
  image: EncodedImage | undefined,
  options: UnderstandTokensOptions,
): Promise<{ tokens: number[]; finish: 'stop' | 'length' }> {
  const { signal } = options;
  const H = config.llm.hiddenSize;
  const half = config.llm.headDim / 2;
  const frequencies = inverseFrequencies(config.llm.headDim, config.llm.ropeTheta);
  const { positions, delta } = mropePositions(
    ids,
    config.imageTokenId,
    image ? { gridH: image.gridH, gridW: image.gridW } : undefined,
    config.vision.spatialMergeSize,
  );

  const allAngles = mropeAngles(positions, config.mropeSection, frequencies);
  const keep = presentNames(config.llm.numLayers);
  const step = (input: Float32Array, length: number, angles: Float32Array, past: Record<string, DeviceTensor | HostTensor>, total: number) =>
    graphs.run(
      'llm',
      {
        inputs_embeds: float32([1, length, H], input),
        attention_mask: int64([1, total], new Array<number>(total).fill(1)),
        rotary_angles: float32([1, length, half], angles),
        ...past,
      },
      { signal, keepOnDevice: keep },
    );
  const embedRange = async (from: number, to: number): Promise<Float32Array> => {
    const slice = ids.slice(from, to);
    const rows = (await takeFloat32((await graphs.run('embed', { input_ids: int64([1, slice.length], slice) }, { signal })).inputs_embeds)).data;
    if (image && slice.includes(config.imageTokenId)) {
      const full = new Float32Array(ids.length * H);
      full.set(rows, from * H);
      scatterImage(full, ids, config.imageTokenId, image.embeds, H);
      return full.slice(from * H, to * H);
    }
    return rows;
  };

  let start = 0;
  let cached: Record<string, DeviceTensor | HostTensor> = emptyCache(config);
  if (options.prefix) {
    start = options.prefix.length;
    cached = options.prefix.past;
  } else if (options.cacheUpTo && options.cacheUpTo.splitAt > 0 && options.cacheUpTo.splitAt < ids.length) {
    const split = options.cacheUpTo.splitAt;
    const head = await step(await embedRange(0, split), split, allAngles.slice(0, split * half), cached, split);
    head.last_hidden_state.dispose();
    const headPast = presentsAsPast(head);
    options.cacheUpTo.onPrefix(headPast);
    start = split;
    cached = headPast;
  }
  if (start >= ids.length) throw new RangeError('the cached prefix covers the whole prompt');
  let out = await step(await embedRange(start, ids.length), ids.length - start, allAngles.slice(start * half), cached, ids.length);
  let past: Record<string, DeviceTensor> | undefined;
  const seen = [...ids];
  const tokens: number[] = [];
  const eos = new Set(options.eosIds);
  try {
    for (;;) {
      const hidden = await takeFloat32(out.last_hidden_state);
      past = presentsAsPast(out);
      const logits = await graphs.run('lm_head', { hidden: float32([1, H], hidden.data.slice(hidden.data.length - H)) }, { signal });
      const id = selectToken((await takeFloat32(logits.logits)).data, options.sampling, { seenIds: seen, random: options.random });
      if (eos.has(id)) return { tokens, finish: 'stop' };
      tokens.push(id);
      seen.push(id);
      options.onToken?.(id);
      if (options.shouldStop?.()) return { tokens, finish: 'stop' };
      const total = ids.length + tokens.length;
      if (tokens.length >= options.maxTokens || total >= config.llm.maxPositionEmbeddings) return { tokens, finish: 'length' };
      throwIfAborted(signal);
      const position = total - 1 + delta;
      const angles = new Float32Array(half);
      for (let f = 0; f < half; f++) angles[f] = Math.fround(position * frequencies[f]);
      const next = (await takeFloat32((await graphs.run('embed', { input_ids: int64([1, 1], [id]) }, { signal })).inputs_embeds)).data;
      const previous = past;
      out = await step(next, 1, angles, previous, total);
      // The first step's past may be a cached prefix, which is never this call's to release.
      if (previous !== cached) disposeAll(previous);
      past = undefined;
    }
  } finally {
    if (past !== cached) disposeAll(past);
  }
}
