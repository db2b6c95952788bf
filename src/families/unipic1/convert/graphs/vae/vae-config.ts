import { checkpointConfigSchema } from '../../checkpoint-config.js';
import { InvalidOptionsError } from '../../../../../errors/invalid-options-error.js';
import type { AttentionImplementation } from '../mar/mar-config.js';

/**
 * Structure of the LDM KL-16 autoencoder (`kl16.ckpt`) that the manifest's `vae` section does not
 * carry. The converter fills it from the checkpoint description; the real UniPic values are
 * `UNIPIC_VAE_CONFIG`.
 */
export interface VaeGraphConfig {
  /** Base channel count (`ch`). */
  readonly ch: number;
  /** Channel multiplier per level; its length is the number of levels (stride 2^(levels−1)). */
  readonly chMult: readonly number[];
  /** ResnetBlocks per encoder level; the decoder has one more per level, as in LDM. */
  readonly numResBlocks: number;
  /** Encoder output is 2·zChannels (mean and log-variance); decoder input is zChannels. */
  readonly zChannels: number;
  /** Latent channels after `quant_conv` (the posterior mean) and into `post_quant_conv`. */
  readonly embedDim: number;
  /** GroupNorm groups (32 in LDM). */
  readonly groups: number;
  /**
   * Encoder levels whose ResnetBlocks are each followed by an AttnBlock. LDM fixes these from a
   * nominal 256 px resolution (`attn_resolutions=(16,)`), so it is the last level whatever the
   * input size. The decoder's up levels never have attention.
   */
  readonly encoderAttentionLevels: readonly number[];
  /** `vae_scale`: latents are `mean × scale`; the decoder divides by it. */
  readonly scale: number;
}

/** MAR's KL-16 as used by UniPic. */
export const UNIPIC_VAE_CONFIG: VaeGraphConfig = {
  ch: 128,
  chMult: [1, 1, 2, 2, 4],
  numResBlocks: 2,
  zChannels: 16,
  embedDim: 16,
  groups: 32,
  encoderAttentionLevels: [4],
  scale: 0.2325,
};

export interface VaeGraphOptions {
  /** AttnBlock implementation; default `standard` (see `AttentionImplementation`). */
  readonly attention?: AttentionImplementation;
}

export { VAE_GROUP_NORM_EPSILON } from '../../../../../convert/graphs/vae/group-norm.js';

/** The `vae` section of a structure file (snake_case, as tiny-config.json and the oracle write it). */
const vaeJsonSchema = checkpointConfigSchema.shape.vae;

export function vaeConfigFromJson(section: unknown): VaeGraphConfig {
  const parsed = vaeJsonSchema.safeParse(section);
  if (!parsed.success) {
    throw new InvalidOptionsError('invalid vae config section', {
      details: { issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })) },
    });
  }
  const json = parsed.data;
  return {
    ch: json.ch,
    chMult: json.ch_mult,
    numResBlocks: json.num_res_blocks,
    zChannels: json.z_channels,
    embedDim: json.embed_dim,
    groups: json.norm_num_groups,
    encoderAttentionLevels: [json.attn_resolution_level],
    scale: json.scale,
  };
}
