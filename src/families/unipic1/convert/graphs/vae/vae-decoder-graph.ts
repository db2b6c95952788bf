import { contractInput, contractOutput } from '../../../../../convert/onnx/contract-io.js';
import { UNIPIC1_GRAPHS } from '../../../graphs.js';
import { silu } from '../../../../../convert/graphs/layers/activations.js';
import type { GraphContext } from '../../../../../convert/graphs/weights.js';
import { attentionBlock } from '../../../../../convert/graphs/vae/attention-block.js';
import { conv2d, convOutputChannels } from '../../../../../convert/graphs/vae/conv.js';
import { groupNorm } from '../../../../../convert/graphs/vae/group-norm.js';
import { resnetBlock } from '../../../../../convert/graphs/vae/resnet-block.js';
import { upsample } from '../../../../../convert/graphs/vae/resample.js';
import { expectChannels } from '../../../../../convert/graphs/vae/channel-check.js';
import type { VaeGraphConfig, VaeGraphOptions } from './vae-config.js';
import { buildStripDecoderGraph, StripTail } from '../../../../../convert/graphs/vae/strip-decoder-graph.js';
import type { StripDecoderPlan } from '../../../../../spec/strip-decoder.js';

/**
 * The `vae_decoder` graph (docs/model-format.md): scaled tokens `[B, m, n, embedDim]` ÷ `scale`
 * → `[B, embedDim, m, n]` → `post_quant_conv` → LDM decoder (mid Res/Attn/Res, then per level
 * from the deepest `numResBlocks + 1` ResnetBlocks and a nearest ×2 Upsample except at level 0)
 * → `pixels [B, 3, 16m, 16n]` in about [−1, 1].
 */
export function buildVaeDecoderGraph(ctx: GraphContext, config: VaeGraphConfig, options: VaeGraphOptions = {}): void {
  const { builder } = ctx;
  const spec = UNIPIC1_GRAPHS.vae_decoder;
  const sizes = { latent_channels: config.embedDim };
  let { output: h, channels } = decoderHead(ctx, contractInput(builder, spec, 'latents', sizes), config, options, 0);
  h = conv2d(ctx, silu(builder, groupNorm(ctx, h, 'vae.decoder.norm_out', channels, config.groups)), 'vae.decoder.conv_out');
  expectChannels('vae.decoder.conv_out', convOutputChannels(ctx, 'vae.decoder.conv_out'), 3);
  contractOutput(builder, spec, h, 'pixels', sizes);
}

/** Up levels below this one (and the upsample into them) run in strips: the full-resolution part. */
function stripFromLevel(config: VaeGraphConfig): number {
  return Math.min(2, config.chMult.length - 1);
}

/**
 * `vae_decoder_strips` (docs/model-format.md, "Strip VAE decoder"): the same decoder with the up
 * levels below `stripFromLevel` and the output norm/conv as strip stages. Returns the manifest plan.
 */
export function buildVaeDecoderStripGraph(ctx: GraphContext, config: VaeGraphConfig, options: VaeGraphOptions = {}): StripDecoderPlan {
  const from = stripFromLevel(config);
  const tail = new StripTail(ctx);
  if (from > 0) tail.upsample(`vae.decoder.up.${from}.upsample.conv`);
  for (let level = from - 1; level >= 0; level--) {
    for (let block = 0; block <= config.numResBlocks; block++) tail.resnet(`vae.decoder.up.${level}.block.${block}`, 'nin_shortcut');
    if (level !== 0) tail.upsample(`vae.decoder.up.${level}.upsample.conv`);
  }
  tail.out('vae.decoder.norm_out', 'vae.decoder.conv_out');
  return buildStripDecoderGraph(ctx, {
    latent: { shape: [1, 'grid_height', 'grid_width', config.embedDim], dummy: [1, 1, 1, config.embedDim] },
    head: (latents) => decoderHead(ctx, latents, config, options, from),
    stages: tail.stages,
    groups: config.groups,
  });
}

/**
 * `latents [B, m, n, embedDim]` → the decoder's features after the up levels down to `lastLevel`
 * (its ResnetBlocks; the Upsample out of `lastLevel` is left to the caller).
 */
function decoderHead(ctx: GraphContext, latents: string, config: VaeGraphConfig, options: VaeGraphOptions, lastLevel: number): { output: string; channels: number } {
  const { builder } = ctx;
  const { chMult, numResBlocks, groups, embedDim } = config;
  // Div, not Mul by the reciprocal: the reference divides, and x/s ≠ x·(1/s) in float32.
  const unscaled = builder.op('Div', [latents, builder.constFloat([config.scale], [])]);
  let h = conv2d(ctx, builder.op('Transpose', [unscaled], { perm: [0, 3, 1, 2] }), 'vae.post_quant_conv');
  expectChannels('vae.post_quant_conv', convOutputChannels(ctx, 'vae.post_quant_conv'), embedDim);
  h = conv2d(ctx, h, 'vae.decoder.conv_in');
  let channels = convOutputChannels(ctx, 'vae.decoder.conv_in');
  expectChannels('vae.decoder.conv_in', channels, config.ch * chMult[chMult.length - 1]);

  h = resnetBlock(ctx, h, 'vae.decoder.mid.block_1', channels, groups).output;
  h = attentionBlock(ctx, h, 'vae.decoder.mid.attn_1', channels, groups, options.attention);
  h = resnetBlock(ctx, h, 'vae.decoder.mid.block_2', channels, groups).output;
  for (let level = chMult.length - 1; level >= lastLevel; level--) {
    // `decoder.up` is stored by level index (the module list is built deepest first, then prepended).
    const prefix = `vae.decoder.up.${level}`;
    for (let block = 0; block <= numResBlocks; block++) {
      ({ output: h, channels } = resnetBlock(ctx, h, `${prefix}.block.${block}`, channels, groups));
      expectChannels(`${prefix}.block.${block}`, channels, config.ch * chMult[level]);
    }
    if (level > lastLevel) h = upsample(ctx, h, `${prefix}.upsample`);
  }
  return { output: h, channels };
}
