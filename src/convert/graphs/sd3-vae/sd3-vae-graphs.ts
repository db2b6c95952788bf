import { buildStripDecoderGraph, StripTail } from '../vae/strip-decoder-graph.js';
import type { StripDecoderPlan } from '../../../spec/strip-decoder.js';
import type { StripEncoderPlan } from '../../../spec/strip-encoder.js';
import { buildStripEncoderGraph, StripProgram } from '../vae/strip-encoder-graph.js';
import { silu } from '../layers/activations.js';
import { expectChannels } from '../vae/channel-check.js';
import { conv2d, convOutputChannels } from '../vae/conv.js';
import { groupNorm } from '../vae/group-norm.js';
import { linearAttentionBlock } from '../vae/linear-attention-block.js';
import { resnetBlock } from '../vae/resnet-block.js';
import { downsample, upsample } from '../vae/resample.js';
import type { GraphContext } from '../weights.js';

/** diffusers `AutoencoderKL` structure (the SD3.5 VAE), from `vae/config.json`. */
export interface Sd3VaeConfig {
  readonly blockOutChannels: readonly number[];
  readonly layersPerBlock: number;
  readonly latentChannels: number;
  readonly groups: number;
  readonly useQuantConv: boolean;
  readonly usePostQuantConv: boolean;
  readonly midBlockAttention: boolean;
}

const V = 'vae.';
const SHORTCUT = 'conv_shortcut';

function midBlock(ctx: GraphContext, h: string, prefix: string, channels: number, config: Sd3VaeConfig): string {
  h = resnetBlock(ctx, h, `${prefix}.resnets.0`, channels, config.groups, SHORTCUT).output;
  if (config.midBlockAttention) h = linearAttentionBlock(ctx, h, `${prefix}.attentions.0`, channels, config.groups);
  return resnetBlock(ctx, h, `${prefix}.resnets.1`, channels, config.groups, SHORTCUT).output;
}

/**
 * `vae_encoder`: `pixels [B, 3, H, W]` in [−1, 1] → `mean`, `logvar` `[B, latent, H/8, W/8]`, the
 * posterior's raw moments (no scaling, no clamp: the pipeline applies shift/scale, and the clamp of
 * the log-variance to [−30, 20] only matters for sampling).
 */
export function buildSd3VaeEncoderGraph(ctx: GraphContext, config: Sd3VaeConfig): void {
  const pixels = ctx.builder.input('pixels', 'float32', ['batch', 3, 'height', 'width']);
  const h = conv2d(ctx, pixels, `${V}encoder.conv_in`);
  const channels = convOutputChannels(ctx, `${V}encoder.conv_in`);
  expectChannels(`${V}encoder.conv_in`, channels, config.blockOutChannels[0]);
  encoderFromLevel(ctx, h, channels, config, 0);
}

/**
 * `vae_encoder_strips` (docs/model-format.md, "Strip VAE encoder"): the shared strip encoder with
 * conv_in and the two finest down blocks (with their downsamplers) as passes — the same layers as
 * UniPic-1's KL-16 encoder, so the same program — and the rest as the tail (`mean`, `logvar`).
 */
export function buildSd3VaeEncoderStripGraph(ctx: GraphContext, config: Sd3VaeConfig): StripEncoderPlan {
  const levels = Math.min(2, config.blockOutChannels.length - 1);
  const program = new StripProgram(ctx, 3);
  program.conv(`${V}encoder.conv_in`);
  expectChannels(`${V}encoder.conv_in`, program.channels[program.last], config.blockOutChannels[0]);
  for (let level = 0; level < levels; level++) {
    const prefix = `${V}encoder.down_blocks.${level}`;
    for (let i = 0; i < config.layersPerBlock; i++) {
      program.resnet(`${prefix}.resnets.${i}`, SHORTCUT, { store: i < config.layersPerBlock - 1 });
      expectChannels(`${prefix}.resnets.${i}`, program.channels[program.last], config.blockOutChannels[level]);
    }
    program.downsample(`${prefix}.downsamplers.0.conv`, { store: true });
  }
  const side = 2 ** (config.blockOutChannels.length - 1 - levels);
  return buildStripEncoderGraph(ctx, {
    program,
    tail: (x) => encoderFromLevel(ctx, x, program.channels[program.last], config, levels),
    tailDummy: [1, program.channels[program.last], side, side],
    groups: config.groups,
  });
}

/** The encoder from down block `fromLevel` on; declares `mean` and `logvar` and returns their names. */
function encoderFromLevel(ctx: GraphContext, x: string, inChannels: number, config: Sd3VaeConfig, fromLevel: number): string[] {
  const { builder } = ctx;
  const levels = config.blockOutChannels.length;
  const stride = 2 ** (levels - 1);
  let h = x;
  let channels = inChannels;
  for (let level = fromLevel; level < levels; level++) {
    const prefix = `${V}encoder.down_blocks.${level}`;
    for (let i = 0; i < config.layersPerBlock; i++) {
      ({ output: h, channels } = resnetBlock(ctx, h, `${prefix}.resnets.${i}`, channels, config.groups, SHORTCUT));
      expectChannels(`${prefix}.resnets.${i}`, channels, config.blockOutChannels[level]);
    }
    if (level !== levels - 1) h = downsample(ctx, h, `${prefix}.downsamplers.0`);
  }
  h = midBlock(ctx, h, `${V}encoder.mid_block`, channels, config);
  h = conv2d(ctx, silu(builder, groupNorm(ctx, h, `${V}encoder.conv_norm_out`, channels, config.groups)), `${V}encoder.conv_out`);
  expectChannels(`${V}encoder.conv_out`, convOutputChannels(ctx, `${V}encoder.conv_out`), 2 * config.latentChannels);
  if (config.useQuantConv) h = conv2d(ctx, h, `${V}quant_conv`);
  const [mean, logvar] = builder.node('Split', [h, builder.constInt64([config.latentChannels, config.latentChannels])], {
    attributes: { axis: 1 },
    outputCount: 2,
  });
  const shape = ['batch', config.latentChannels, `height/${stride}`, `width/${stride}`];
  builder.output(mean, 'mean', 'float32', shape);
  builder.output(logvar, 'logvar', 'float32', shape);
  return ['mean', 'logvar'];
}

/** `vae_decoder`: `latents [B, latent, h, w]` in VAE space (already `z/scale + shift`) → `pixels [B, 3, 8h, 8w]`. */
export function buildSd3VaeDecoderGraph(ctx: GraphContext, config: Sd3VaeConfig): void {
  const { builder } = ctx;
  const levels = config.blockOutChannels.length;
  const stride = 2 ** (levels - 1);
  const latents = builder.input('latents', 'float32', ['batch', config.latentChannels, 'grid_height', 'grid_width']);
  const { output, channels } = decoderHead(ctx, latents, config, levels - 1);
  const h = conv2d(ctx, silu(builder, groupNorm(ctx, output, `${V}decoder.conv_norm_out`, channels, config.groups)), `${V}decoder.conv_out`);
  expectChannels(`${V}decoder.conv_out`, convOutputChannels(ctx, `${V}decoder.conv_out`), 3);
  builder.output(h, 'pixels', 'float32', ['batch', 3, `grid_height*${stride}`, `grid_width*${stride}`]);
}

/**
 * `vae_decoder_strips` (docs/model-format.md, "Strip VAE decoder"): the same decoder with the two
 * finest up blocks (and the upsampler into them) and the output norm/conv as strip stages.
 */
export function buildSd3VaeDecoderStripGraph(ctx: GraphContext, config: Sd3VaeConfig): StripDecoderPlan {
  const levels = config.blockOutChannels.length;
  const last = Math.max(0, levels - 3);
  const tail = new StripTail(ctx);
  if (last < levels - 1) tail.upsample(`${V}decoder.up_blocks.${last}.upsamplers.0.conv`);
  for (let level = last + 1; level < levels; level++) {
    for (let i = 0; i <= config.layersPerBlock; i++) tail.resnet(`${V}decoder.up_blocks.${level}.resnets.${i}`, SHORTCUT);
    if (level !== levels - 1) tail.upsample(`${V}decoder.up_blocks.${level}.upsamplers.0.conv`);
  }
  tail.out(`${V}decoder.conv_norm_out`, `${V}decoder.conv_out`);
  return buildStripDecoderGraph(ctx, {
    latent: { shape: [1, config.latentChannels, 'grid_height', 'grid_width'], dummy: [1, config.latentChannels, 1, 1] },
    head: (latents) => decoderHead(ctx, latents, config, last),
    stages: tail.stages,
    groups: config.groups,
  });
}

/** `latents` → the features after up block `lastLevel`'s resnets (its upsampler left to the caller). */
function decoderHead(ctx: GraphContext, latents: string, config: Sd3VaeConfig, lastLevel: number): { output: string; channels: number } {
  const reversed = [...config.blockOutChannels].reverse();
  let h = config.usePostQuantConv ? conv2d(ctx, latents, `${V}post_quant_conv`) : latents;
  h = conv2d(ctx, h, `${V}decoder.conv_in`);
  let channels = convOutputChannels(ctx, `${V}decoder.conv_in`);
  expectChannels(`${V}decoder.conv_in`, channels, reversed[0]);
  h = midBlock(ctx, h, `${V}decoder.mid_block`, channels, config);
  for (let level = 0; level <= lastLevel; level++) {
    const prefix = `${V}decoder.up_blocks.${level}`;
    for (let i = 0; i <= config.layersPerBlock; i++) {
      ({ output: h, channels } = resnetBlock(ctx, h, `${prefix}.resnets.${i}`, channels, config.groups, SHORTCUT));
      expectChannels(`${prefix}.resnets.${i}`, channels, reversed[level]);
    }
    if (level < lastLevel) h = upsample(ctx, h, `${prefix}.upsamplers.0`);
  }
  return { output: h, channels };
}
