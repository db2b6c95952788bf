import type { Sd3DiffusionConfig } from '../../core/diffusion/sd3-diffusion-config.js';
import { buildMmditGraph } from '../graphs/mmdit/mmdit-graph.js';
import { buildSd3VaeDecoderGraph, buildSd3VaeDecoderStripGraph, buildSd3VaeEncoderGraph, buildSd3VaeEncoderStripGraph } from '../graphs/sd3-vae/sd3-vae-graphs.js';
import type { StripEncoderPlan } from '../../spec/strip-encoder.js';
import type { StripDecoderPlan } from '../../spec/strip-decoder.js';
import type { GraphContext } from '../graphs/weights.js';
import type { Sd3DiffusionStructure } from './diffusion-configs.js';

export type Sd3DiffusionGraphName = 'transformer' | 'vae_encoder' | 'vae_decoder' | 'vae_decoder_strips' | 'vae_encoder_strips';

export interface Sd3DiffusionGraphPlan {
  readonly name: Sd3DiffusionGraphName;
  /** Checkpoint key prefix of the graph's weights. */
  readonly prefix: string;
  /** VAE graphs stay float32 in every dtype (convolutions and GroupNorm, 4% of the parameters). */
  readonly quantizable: boolean;
  build(ctx: GraphContext): void;
}

/**
 * The diffusion graphs every family on the SD3.5M-Kontext sampler converts: the denoiser, the VAE
 * halves, and both again in strips (large images decode and encode in a fraction of the memory,
 * same result; `onStripPlan` / `onStripEncoderPlan` receive their manifest plans).
 */
export function sd3DiffusionGraphPlans(
  s: Sd3DiffusionStructure,
  onStripPlan: (plan: StripDecoderPlan) => void,
  onStripEncoderPlan: (plan: StripEncoderPlan) => void,
): Sd3DiffusionGraphPlan[] {
  return [
    { name: 'transformer', prefix: 'transformer.', quantizable: true, build: (ctx) => buildMmditGraph(ctx, s.transformer) },
    { name: 'vae_encoder', prefix: 'vae.', quantizable: false, build: (ctx) => buildSd3VaeEncoderGraph(ctx, s.vae) },
    { name: 'vae_decoder', prefix: 'vae.', quantizable: false, build: (ctx) => buildSd3VaeDecoderGraph(ctx, s.vae) },
    { name: 'vae_decoder_strips', prefix: 'vae.', quantizable: false, build: (ctx) => onStripPlan(buildSd3VaeDecoderStripGraph(ctx, s.vae)) },
    { name: 'vae_encoder_strips', prefix: 'vae.', quantizable: false, build: (ctx) => onStripEncoderPlan(buildSd3VaeEncoderStripGraph(ctx, s.vae)) },
  ];
}

/** The manifest's `transformer`/`vae`/`scheduler` config from the checkpoint structure. */
export function sd3DiffusionConfig(s: Sd3DiffusionStructure, rounding: 'bfloat16' | 'float32'): Sd3DiffusionConfig {
  const t = s.transformer;
  return {
    transformer: {
      width: t.width,
      patchSize: t.patchSize,
      inChannels: t.inChannels,
      outChannels: t.outChannels,
      jointAttentionDim: t.jointAttentionDim,
      pooledProjectionDim: t.pooledProjectionDim,
      positionTable: { maxSize: t.posEmbedMaxSize, baseSize: t.sampleSize / t.patchSize, interpolationScale: 1, rounding },
    },
    vae: {
      latentChannels: s.vae.latentChannels,
      scalingFactor: s.vae.scalingFactor,
      shiftFactor: s.vae.shiftFactor,
      stride: 2 ** (s.vae.blockOutChannels.length - 1),
    },
    scheduler: s.scheduler,
  };
}
