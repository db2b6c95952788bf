import { InvalidModelError } from '../../../../errors/invalid-model-error.js';

/** `transformer/config.json` (`QwenImageTransformer2DModel`). */
export interface QwenTransformerConfig {
  readonly patchSize: number;
  /** Packed input width (`4 × z_dim` for patch 2). */
  readonly inChannels: number;
  readonly outChannels: number;
  readonly numLayers: number;
  readonly headDim: number;
  readonly heads: number;
  readonly jointAttentionDim: number;
  readonly axesDimsRope: readonly [number, number, number];
}

const METADATA = new Set(['_class_name', '_diffusers_version', '_name_or_path', 'pooled_projection_dim']);

/**
 * Reads the config; refuses the features UniPic-3's transformer does not have (guidance
 * embedding, 2511's `zero_cond_t`, layered RoPE / extra time conditioning), so a checkpoint that
 * needs them is never run without them. `pooled_projection_dim` appears in some published
 * configs but the model class never reads it.
 */
export function qwenTransformerConfigFromJson(json: Record<string, unknown>): QwenTransformerConfig {
  for (const flag of ['guidance_embeds', 'zero_cond_t', 'use_additional_t_cond', 'use_layer3d_rope']) {
    if (json[flag] !== undefined && json[flag] !== false)
      throw new InvalidModelError(`transformer/config.json: ${flag} = ${JSON.stringify(json[flag])} is not supported by UniPic-3`);
  }
  const known = new Set([
    'patch_size',
    'in_channels',
    'out_channels',
    'num_layers',
    'attention_head_dim',
    'num_attention_heads',
    'joint_attention_dim',
    'axes_dims_rope',
    'guidance_embeds',
    'zero_cond_t',
    'use_additional_t_cond',
    'use_layer3d_rope',
  ]);
  for (const key of Object.keys(json)) {
    if (!known.has(key) && !METADATA.has(key)) throw new InvalidModelError(`transformer/config.json: unknown field "${key}"`);
  }
  const int = (key: string, fallback: number): number => {
    const value = json[key] ?? fallback;
    if (!Number.isInteger(value) || (value as number) <= 0) throw new InvalidModelError(`transformer/config.json: ${key} must be a positive integer`);
    return value as number;
  };
  const axes = (json.axes_dims_rope ?? [16, 56, 56]) as unknown[];
  const headDim = int('attention_head_dim', 128);
  if (!Array.isArray(axes) || axes.length !== 3 || !axes.every((v) => Number.isInteger(v) && (v as number) % 2 === 0)) {
    throw new InvalidModelError('transformer/config.json: axes_dims_rope must be three even integers');
  }
  if ((axes as number[]).reduce((a, b) => a + b, 0) !== headDim) {
    throw new InvalidModelError(
      `transformer/config.json: axes_dims_rope sums to ${(axes as number[]).reduce((a, b) => a + b, 0)}, not attention_head_dim ${headDim}`,
    );
  }
  return {
    patchSize: int('patch_size', 2),
    inChannels: int('in_channels', 64),
    outChannels: int('out_channels', 16),
    numLayers: int('num_layers', 60),
    headDim,
    heads: int('num_attention_heads', 24),
    jointAttentionDim: int('joint_attention_dim', 3584),
    axesDimsRope: axes as [number, number, number],
  };
}
