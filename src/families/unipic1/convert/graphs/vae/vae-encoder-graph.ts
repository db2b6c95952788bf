import { contractInput, contractOutput } from '../../../../../convert/onnx/contract-io.js';
import { UNIPIC1_GRAPHS } from '../../../graphs.js';
import { silu } from '../../../../../convert/graphs/layers/activations.js';
import type { GraphContext } from '../../../../../convert/graphs/weights.js';
import { attentionBlock } from '../../../../../convert/graphs/vae/attention-block.js';
import { conv2d, convOutputChannels } from '../../../../../convert/graphs/vae/conv.js';
import { groupNorm } from '../../../../../convert/graphs/vae/group-norm.js';
import { resnetBlock } from '../../../../../convert/graphs/vae/resnet-block.js';
import { downsample } from '../../../../../convert/graphs/vae/resample.js';
import { expectChannels } from '../../../../../convert/graphs/vae/channel-check.js';
import type { VaeGraphConfig, VaeGraphOptions } from './vae-config.js';
import { buildStripEncoderGraph, StripProgram } from '../../../../../convert/graphs/vae/strip-encoder-graph.js';
import type { StripEncoderPlan } from '../../../../../spec/strip-encoder.js';
import { InvalidModelError } from '../../../../../errors/invalid-model-error.js';

/**
 * The `vae_encoder` graph (docs/model-format.md): `pixels [B, 3, S, S]` in [−1, 1] → LDM encoder
 * → `quant_conv` → posterior mean (first `embedDim` channels; inference uses `mode()`, never a
 * sample) × `scale`, laid out `[B, S/16, S/16, embedDim]` (patch size 1).
 */
export function buildVaeEncoderGraph(ctx: GraphContext, config: VaeGraphConfig, options: VaeGraphOptions = {}): void {
  const pixels = contractInput(ctx.builder, UNIPIC1_GRAPHS.vae_encoder, 'pixels', { latent_channels: config.embedDim });
  const h = conv2d(ctx, pixels, 'vae.encoder.conv_in');
  const channels = convOutputChannels(ctx, 'vae.encoder.conv_in');
  expectChannels('vae.encoder.conv_in', channels, config.ch);
  encoderFromLevel(ctx, h, channels, config, options, 0);
}

/** Levels run in strips: the full-resolution ones before the first with attention, at most two (the rest is small). */
function stripLevels(config: VaeGraphConfig): number {
  const attention = Math.min(...config.encoderAttentionLevels, config.chMult.length - 1);
  return Math.min(2, attention);
}

/**
 * `vae_encoder_strips` (docs/model-format.md, "Strip VAE encoder"): conv_in, the levels below
 * `stripLevels` and their downsamples as strip passes, the rest as the tail. Each level stores its
 * first ResnetBlocks' outputs and its downsample's; the last block's inner tensors are recomputed,
 * so at 1024 px one full-resolution tensor is held at a time (docs/performance.md).
 */
export function buildVaeEncoderStripGraph(ctx: GraphContext, config: VaeGraphConfig, options: VaeGraphOptions = {}): StripEncoderPlan {
  const levels = stripLevels(config);
  if (levels < 1) throw new InvalidModelError('this VAE encoder has attention at full resolution: no strip encoder');
  const program = new StripProgram(ctx, 3);
  program.conv('vae.encoder.conv_in');
  expectChannels('vae.encoder.conv_in', program.channels[program.last], config.ch);
  for (let level = 0; level < levels; level++) {
    for (let block = 0; block < config.numResBlocks; block++) {
      const prefix = `vae.encoder.down.${level}.block.${block}`;
      program.resnet(prefix, 'nin_shortcut', { store: block < config.numResBlocks - 1 });
      expectChannels(prefix, program.channels[program.last], config.ch * config.chMult[level]);
    }
    program.downsample(`vae.encoder.down.${level}.downsample.conv`, { store: true });
  }
  const side = 2 ** (config.chMult.length - 1 - levels);
  return buildStripEncoderGraph(ctx, {
    program,
    tail: (x) => {
      encoderFromLevel(ctx, x, program.channels[program.last], config, options, levels);
      return ['latents'];
    },
    tailDummy: [1, program.channels[program.last], side, side],
    groups: config.groups,
  });
}

/** The encoder from `fromLevel`'s ResnetBlocks on: its levels, the mid blocks, `norm_out`/`conv_out`, `quant_conv`, the scaled mean as `latents`. */
function encoderFromLevel(ctx: GraphContext, x: string, inChannels: number, config: VaeGraphConfig, options: VaeGraphOptions, fromLevel: number): void {
  const { builder } = ctx;
  const { chMult, numResBlocks, groups, embedDim } = config;
  const spec = UNIPIC1_GRAPHS.vae_encoder;
  const sizes = { latent_channels: embedDim };
  let h = x;
  let channels = inChannels;
  for (let level = fromLevel; level < chMult.length; level++) {
    const withAttention = config.encoderAttentionLevels.includes(level);
    for (let block = 0; block < numResBlocks; block++) {
      const prefix = `vae.encoder.down.${level}`;
      ({ output: h, channels } = resnetBlock(ctx, h, `${prefix}.block.${block}`, channels, groups));
      expectChannels(`${prefix}.block.${block}`, channels, config.ch * chMult[level]);
      if (withAttention) h = attentionBlock(ctx, h, `${prefix}.attn.${block}`, channels, groups, options.attention);
    }
    if (level !== chMult.length - 1) h = downsample(ctx, h, `vae.encoder.down.${level}.downsample`);
  }
  h = resnetBlock(ctx, h, 'vae.encoder.mid.block_1', channels, groups).output;
  h = attentionBlock(ctx, h, 'vae.encoder.mid.attn_1', channels, groups, options.attention);
  h = resnetBlock(ctx, h, 'vae.encoder.mid.block_2', channels, groups).output;
  h = conv2d(ctx, silu(builder, groupNorm(ctx, h, 'vae.encoder.norm_out', channels, groups)), 'vae.encoder.conv_out');
  expectChannels('vae.encoder.conv_out', convOutputChannels(ctx, 'vae.encoder.conv_out'), 2 * config.zChannels);
  const moments = conv2d(ctx, h, 'vae.quant_conv');
  expectChannels('vae.quant_conv', convOutputChannels(ctx, 'vae.quant_conv'), 2 * embedDim);

  const mean = builder.op('Slice', [moments, builder.constInt64([0]), builder.constInt64([embedDim]), builder.constInt64([1])]);
  const scaled = builder.op('Mul', [mean, builder.constFloat([config.scale], [])]);
  const tokens = builder.op('Transpose', [scaled], { perm: [0, 2, 3, 1] });
  contractOutput(builder, spec, tokens, 'latents', sizes);
}
