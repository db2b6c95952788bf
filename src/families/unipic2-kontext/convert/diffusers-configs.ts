import { join } from 'node:path';
import { z } from 'zod';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { readJsonFile } from '../../../convert/readers/json-file.js';
import type { ClipTextConfig } from './clip-text-graph.js';
import type { MmditConfig } from './mmdit-graph.js';
import type { Sd3VaeConfig } from './sd3-vae-graphs.js';
import type { T5EncoderConfig } from './t5-encoder-graph.js';

const MAX_CONFIG_BYTES = 1024 * 1024;
const int = z.number().int().positive();

// Only the fields the graphs depend on are read; a value the graphs cannot honour is refused here
// (an unsupported activation, q/k norm or layout), so nothing converts into a silently different model.
const transformerJson = z.object({
  sample_size: int,
  patch_size: int,
  in_channels: int,
  out_channels: int.nullable().optional(),
  num_layers: int,
  attention_head_dim: int,
  num_attention_heads: int,
  joint_attention_dim: int,
  caption_projection_dim: int,
  pooled_projection_dim: int,
  pos_embed_max_size: int,
  dual_attention_layers: z.array(z.number().int().nonnegative()).default([]),
  qk_norm: z.literal('rms_norm'),
});

const vaeJson = z.object({
  in_channels: z.literal(3),
  out_channels: z.literal(3),
  down_block_types: z.array(z.literal('DownEncoderBlock2D')),
  up_block_types: z.array(z.literal('UpDecoderBlock2D')),
  block_out_channels: z.array(int).min(1),
  layers_per_block: int,
  latent_channels: int,
  norm_num_groups: int,
  act_fn: z.literal('silu').default('silu'),
  scaling_factor: z.number().positive(),
  shift_factor: z.number().nullable().default(0),
  use_quant_conv: z.boolean().default(true),
  use_post_quant_conv: z.boolean().default(true),
  mid_block_add_attention: z.boolean().default(true),
});

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

const schedulerJson = z.object({
  num_train_timesteps: int.default(1000),
  shift: z.number().positive().default(1),
  use_dynamic_shifting: z.literal(false).default(false),
  shift_terminal: z.null().optional(),
  use_karras_sigmas: z.literal(false).optional(),
  use_exponential_sigmas: z.literal(false).optional(),
  use_beta_sigmas: z.literal(false).optional(),
  invert_sigmas: z.literal(false).optional(),
  stochastic_sampling: z.literal(false).optional(),
});

async function parseConfig<T extends z.ZodType>(folder: string, schema: T): Promise<z.infer<T>> {
  const path = join(folder, 'config.json');
  const parsed = schema.safeParse(await readJsonFile(path, MAX_CONFIG_BYTES));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    throw new InvalidModelError(`${path} describes a model this converter does not support: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
      details: { file: path, issues },
    });
  }
  return parsed.data;
}

/** Everything the Kontext converter reads from the checkpoint's config files. */
export interface KontextStructure {
  readonly transformer: MmditConfig & { readonly sampleSize: number; readonly posEmbedMaxSize: number };
  readonly vae: Sd3VaeConfig & { readonly scalingFactor: number; readonly shiftFactor: number };
  readonly clipL: ClipTextConfig;
  readonly clipG: ClipTextConfig;
  /** Absent when the checkpoint has no `text_encoder_3/` (the pipeline then feeds zeros). */
  readonly t5?: T5EncoderConfig;
  readonly scheduler: { readonly numTrainTimesteps: number; readonly shift: number };
}

/** Longest T5 input the converted graph accepts (the pipeline's `max_sequence_length` ≤ 512). */
export const T5_MAX_LENGTH = 512;

export async function readKontextStructure(root: string, hasT5: boolean): Promise<KontextStructure> {
  const t = await parseConfig(join(root, 'transformer'), transformerJson);
  if (t.caption_projection_dim !== t.num_attention_heads * t.attention_head_dim) {
    throw new InvalidModelError(
      `transformer/config.json: caption_projection_dim ${t.caption_projection_dim} must equal the width ${t.num_attention_heads * t.attention_head_dim}`,
    );
  }
  const v = await parseConfig(join(root, 'vae'), vaeJson);
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
  const clipL = clip(await parseConfig(join(root, 'text_encoder'), clipJson));
  const clipG = clip(await parseConfig(join(root, 'text_encoder_2'), clipJson));
  let t5: T5EncoderConfig | undefined;
  if (hasT5) {
    const c = await parseConfig(join(root, 'text_encoder_3'), t5Json);
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
  const schedulerPath = join(root, 'scheduler', 'scheduler_config.json');
  const s = schedulerJson.safeParse(await readJsonFile(schedulerPath, MAX_CONFIG_BYTES));
  if (!s.success)
    throw new InvalidModelError(
      `${schedulerPath}: only the static-shift FlowMatch Euler schedule is supported (${s.error.issues.map((i) => i.path.join('.')).join(', ')})`,
    );
  return {
    transformer: {
      width: t.num_attention_heads * t.attention_head_dim,
      heads: t.num_attention_heads,
      headDim: t.attention_head_dim,
      layers: t.num_layers,
      patchSize: t.patch_size,
      inChannels: t.in_channels,
      outChannels: t.out_channels ?? t.in_channels,
      jointAttentionDim: t.joint_attention_dim,
      pooledProjectionDim: t.pooled_projection_dim,
      dualAttentionLayers: t.dual_attention_layers,
      sampleSize: t.sample_size,
      posEmbedMaxSize: t.pos_embed_max_size,
    },
    vae: {
      blockOutChannels: v.block_out_channels,
      layersPerBlock: v.layers_per_block,
      latentChannels: v.latent_channels,
      groups: v.norm_num_groups,
      useQuantConv: v.use_quant_conv,
      usePostQuantConv: v.use_post_quant_conv,
      midBlockAttention: v.mid_block_add_attention,
      scalingFactor: v.scaling_factor,
      shiftFactor: v.shift_factor ?? 0,
    },
    clipL,
    clipG,
    t5,
    scheduler: { numTrainTimesteps: s.data.num_train_timesteps, shift: s.data.shift },
  };
}
