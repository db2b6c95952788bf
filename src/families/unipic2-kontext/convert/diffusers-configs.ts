import { join } from 'node:path';
import { z } from 'zod';
import { parseDiffusersConfig } from '../../../convert/readers/diffusers-config.js';
import { readSd3DiffusionStructure, type Sd3DiffusionStructure } from '../../../convert/sd3-diffusion/diffusion-configs.js';
import type { ClipTextConfig } from './clip-text-graph.js';
import type { T5EncoderConfig } from './t5-encoder-graph.js';

const int = z.number().int().positive();

// Only the fields the graphs depend on are read; a value the graphs cannot honour is refused here.
const clipJson = z.object({
  hidden_size: int,
  intermediate_size: int,
  num_hidden_layers: int,
  num_attention_heads: int,
  max_position_embeddings: int,
  projection_dim: int,
  hidden_act: z.enum(['quick_gelu', 'gelu']),
  layer_norm_eps: z.number().positive().default(1e-5),
  eos_token_id: z.number().int().default(2),
});

const t5Json = z.object({
  d_model: int,
  d_kv: int,
  d_ff: int,
  num_heads: int,
  num_layers: int,
  relative_attention_num_buckets: int.default(32),
  relative_attention_max_distance: int.default(128),
  layer_norm_epsilon: z.number().positive().default(1e-6),
  feed_forward_proj: z.literal('gated-gelu'),
});

/** Everything the Kontext converter reads from the checkpoint's config files. */
export interface KontextCheckpointConfig extends Sd3DiffusionStructure {
  readonly clipL: ClipTextConfig;
  readonly clipG: ClipTextConfig;
  /** Absent when the checkpoint has no `text_encoder_3/` (the pipeline then feeds zeros). */
  readonly t5?: T5EncoderConfig;
}

/** Longest T5 input the converted graph accepts (the pipeline's `max_sequence_length` ≤ 512). */
export const T5_MAX_LENGTH = 512;

export async function readKontextCheckpointConfig(root: string, hasT5: boolean): Promise<KontextCheckpointConfig> {
  const diffusion = await readSd3DiffusionStructure(root);
  const clip = (c: z.infer<typeof clipJson>): ClipTextConfig => ({
    hiddenSize: c.hidden_size,
    intermediateSize: c.intermediate_size,
    layers: c.num_hidden_layers,
    heads: c.num_attention_heads,
    maxPositions: c.max_position_embeddings,
    projectionDim: c.projection_dim,
    activation: c.hidden_act,
    layerNormEps: c.layer_norm_eps,
    eosTokenId: c.eos_token_id,
  });
  const clipL = clip(await parseDiffusersConfig(join(root, 'text_encoder'), clipJson));
  const clipG = clip(await parseDiffusersConfig(join(root, 'text_encoder_2'), clipJson));
  let t5: T5EncoderConfig | undefined;
  if (hasT5) {
    const c = await parseDiffusersConfig(join(root, 'text_encoder_3'), t5Json);
    t5 = {
      dModel: c.d_model,
      dKv: c.d_kv,
      dFf: c.d_ff,
      heads: c.num_heads,
      layers: c.num_layers,
      buckets: c.relative_attention_num_buckets,
      maxDistance: c.relative_attention_max_distance,
      layerNormEps: c.layer_norm_epsilon,
      maxLength: T5_MAX_LENGTH,
    };
  }
  return { ...diffusion, clipL, clipG, t5 };
}
