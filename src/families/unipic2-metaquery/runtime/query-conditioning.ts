import { throwIfAborted } from '../../../errors/abort-error.js';
import { inverseFrequencies } from '../../../core/math/rotary-frequencies.js';
import { float32, int64, takeFloat32 } from '../../../core/tensor.js';
import { mropeAngles } from '../../../core/qwen-vl/mrope-positions.js';
import { scatterImage } from '../../../core/qwen-vl/scatter-image.js';
import { emptyCache, type MqGraphs, type MqRuntimeConfig } from './mq-graphs.js';

export interface Conditioning {
  /** `[Q, joint]` for the Kontext transformer's text stream. */
  readonly promptEmbeds: Float32Array;
  /** `[pooled]`. */
  readonly pooledPromptEmbeds: Float32Array;
  /** `[Q, llmHidden]`, the VLM's final-norm hidden state at the query slots. */
  readonly queryHidden: Float32Array;
}

/**
 * One prompt row of the generate/edit paths (`unipic2_mq_t2i.py`, `unipic2_mq_editing.py`): token embeddings, the image embeddings
 * scattered into the `<|image_pad|>` slots (editing), the learned meta-queries appended, one causal
 * pass with **1-D positions 0…S−1 for every token** (the official code passes only embeddings, so
 * transformers falls back to cumsum(mask) − 1 even for image tokens in `Qwen2_5_VLModel.forward`), the last Q hidden
 * states, then the conditioner. CFG rows run one at a time without padding (matches the padded batch
 * to ~2e-6).
 */
export async function encodeConditioning(
  graphs: MqGraphs,
  config: MqRuntimeConfig,
  ids: readonly number[],
  metaQueries: Float32Array,
  options: { readonly imageEmbeds?: Float32Array; readonly signal?: AbortSignal } = {},
): Promise<Conditioning> {
  const { signal } = options;
  const H = config.llm.hiddenSize;
  const Q = config.numQueries;
  if (metaQueries.length !== Q * H) throw new RangeError(`meta queries hold ${metaQueries.length} values, expected ${Q}×${H}`);
  const embedded = await takeFloat32((await graphs.run('embed', { input_ids: int64([1, ids.length], ids) }, { signal })).inputs_embeds);
  const length = ids.length + Q;
  const embeds = new Float32Array(length * H);
  embeds.set(embedded.data);
  if (options.imageEmbeds) scatterImage(embeds, ids, config.imageTokenId, options.imageEmbeds, H);
  embeds.set(metaQueries, ids.length * H);
  throwIfAborted(signal);

  const positions = Int32Array.from({ length }, (_, i) => i);
  const angles = mropeAngles([positions, positions, positions], config.mropeSection, inverseFrequencies(config.llm.headDim, config.llm.ropeTheta));
  const out = await graphs.run(
    'llm',
    {
      inputs_embeds: float32([1, length, H], embeds),
      attention_mask: int64([1, length], new Array<number>(length).fill(1)),
      rotary_angles: float32([1, length, config.llm.headDim / 2], angles),
      ...emptyCache(config),
    },
    { signal, outputs: ['last_hidden_state'] },
  );
  const hidden = await takeFloat32(out.last_hidden_state);
  const queryHidden = hidden.data.slice(ids.length * H);
  const cond = await graphs.run('conditioner', { query_hidden: float32([1, Q, H], queryHidden) }, { signal });
  const promptEmbeds = (await takeFloat32(cond.prompt_embeds)).data;
  const pooledPromptEmbeds = (await takeFloat32(cond.pooled_prompt_embeds)).data;
  return { promptEmbeds, pooledPromptEmbeds, queryHidden };
}
