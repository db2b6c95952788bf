import { join } from 'node:path';
import { z } from 'zod';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import type { MmditConfig } from '../graphs/mmdit/mmdit-graph.js';
import type { Sd3VaeConfig } from '../graphs/sd3-vae/sd3-vae-graphs.js';
import { parseDiffusersConfig } from '../readers/diffusers-config.js';
import { readJsonFile } from '../readers/json-file.js';

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

export type MmditStructure = MmditConfig & { readonly sampleSize: number; readonly posEmbedMaxSize: number };

/**
 * The SD3.5M-Kontext transformer, SD3 VAE and FlowMatch scheduler of a diffusers folder
 * (`transformer/`, `vae/`, `scheduler/`), as every family built on them reads it.
 */
export interface Sd3DiffusionStructure {
  readonly transformer: MmditStructure;
  readonly vae: Sd3VaeConfig & { readonly scalingFactor: number; readonly shiftFactor: number };
  readonly scheduler: { readonly numTrainTimesteps: number; readonly shift: number };
}

export async function readSd3DiffusionStructure(root: string): Promise<Sd3DiffusionStructure> {
  const t = await parseDiffusersConfig(join(root, 'transformer'), transformerJson);
  if (t.caption_projection_dim !== t.num_attention_heads * t.attention_head_dim) {
    throw new InvalidModelError(
      `transformer/config.json: caption_projection_dim ${t.caption_projection_dim} must equal the width ${t.num_attention_heads * t.attention_head_dim}`,
    );
  }
  const v = await parseDiffusersConfig(join(root, 'vae'), vaeJson);
  const schedulerPath = join(root, 'scheduler', 'scheduler_config.json');
  const s = schedulerJson.safeParse(await readJsonFile(schedulerPath, 1024 * 1024));
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
    scheduler: { numTrainTimesteps: s.data.num_train_timesteps, shift: s.data.shift },
  };
}
