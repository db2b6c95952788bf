import type { PromptEmbeddings } from '../../../core/diffusion/prompt-embeddings.js';
import { int64, takeFloat32 } from '../../../core/tensor.js';
import type { KontextConfig } from '../kontext-config.js';
import type { ClipPromptTokenizer, T5PromptTokenizer } from '../text/kontext-tokenizers.js';
import type { KontextGraphRunner } from './kontext-graph-runner.js';

export interface KontextTokenizers {
  readonly clipL: ClipPromptTokenizer;
  readonly clipG: ClipPromptTokenizer;
  readonly t5?: T5PromptTokenizer;
}

export type { PromptEmbeddings };

/**
 * SD3's `encode_prompt` for a batch of texts: each CLIP's penultimate hidden states
 * side by side, zero-padded to the joint width, followed by T5's last hidden state (or, without
 * T5, 77 rows of zeros as the pipeline substitutes); pooled = the two projected CLIP poolings.
 */
export async function encodePrompts(
  graphs: KontextGraphRunner,
  tokenizers: KontextTokenizers,
  config: KontextConfig,
  texts: readonly string[],
  options: { readonly useT5: boolean; readonly signal?: AbortSignal },
): Promise<PromptEmbeddings> {
  const batch = texts.length;
  const clipLength = config.text.clipLength;
  const joint = config.transformer.jointAttentionDim;
  const encodeClip = async (name: 'clip_l' | 'clip_g', tokenizer: ClipPromptTokenizer) => {
    const ids = texts.flatMap((text) => tokenizer.encode(text));
    const out = await graphs.run(name, { input_ids: int64([batch, clipLength], ids) }, { signal: options.signal });
    return { hidden: await takeFloat32(out.hidden_states), pooled: await takeFloat32(out.pooled) };
  };
  const l = await encodeClip('clip_l', tokenizers.clipL);
  const g = await encodeClip('clip_g', tokenizers.clipG);
  const wl = l.hidden.dims[2];
  const wg = g.hidden.dims[2];

  let t5Rows = clipLength;
  let t5: Float32Array | undefined;
  if (options.useT5) {
    if (!tokenizers.t5 || !graphs.has('t5_encoder')) throw new RangeError('this model has no T5 encoder');
    const length = tokenizers.t5.length;
    const ids = texts.flatMap((text) => tokenizers.t5!.encode(text));
    const out = await graphs.run('t5_encoder', { input_ids: int64([batch, length], ids) }, { signal: options.signal });
    t5 = (await takeFloat32(out.last_hidden_state)).data;
    t5Rows = length;
  }

  const rows = clipLength + t5Rows;
  const embeds = new Float32Array(batch * rows * joint);
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < clipLength; r++) {
      const at = (b * rows + r) * joint;
      embeds.set(l.hidden.data.subarray((b * clipLength + r) * wl, (b * clipLength + r + 1) * wl), at);
      embeds.set(g.hidden.data.subarray((b * clipLength + r) * wg, (b * clipLength + r + 1) * wg), at + wl);
    }
    if (t5) embeds.set(t5.subarray(b * t5Rows * joint, (b + 1) * t5Rows * joint), (b * rows + clipLength) * joint);
  }
  const pl = l.pooled.dims[1];
  const pg = g.pooled.dims[1];
  const pooled = new Float32Array(batch * (pl + pg));
  for (let b = 0; b < batch; b++) {
    pooled.set(l.pooled.data.subarray(b * pl, (b + 1) * pl), b * (pl + pg));
    pooled.set(g.pooled.data.subarray(b * pg, (b + 1) * pg), b * (pl + pg) + pl);
  }
  return { embeds, dims: [batch, rows, joint], pooled, pooledDims: [batch, pl + pg] };
}
