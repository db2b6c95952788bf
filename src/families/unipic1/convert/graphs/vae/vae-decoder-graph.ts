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

/**
 * The `vae_decoder` graph (docs/model-format.md): scaled tokens `[B, m, n, embedDim]` ÷ `scale`
 * → `[B, embedDim, m, n]` → `post_quant_conv` → LDM decoder (mid Res/Attn/Res, then per level
 * from the deepest `numResBlocks + 1` ResnetBlocks and a nearest ×2 Upsample except at level 0)
 * → `pixels [B, 3, 16m, 16n]` in about [−1, 1].
 */
export function buildVaeDecoderGraph(ctx: GraphContext, config: VaeGraphConfig, options: VaeGraphOptions = {}): void {
  const { builder } = ctx;
  const { chMult, numResBlocks, groups, embedDim } = config;
  const spec = UNIPIC1_GRAPHS.vae_decoder;
  const sizes = { latent_channels: embedDim };
  const latents = contractInput(builder, spec, 'latents', sizes);

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
  for (let level = chMult.length - 1; level >= 0; level--) {
    // `decoder.up` is stored by level index (the module list is built deepest first, then prepended).
    const prefix = `vae.decoder.up.${level}`;
    for (let block = 0; block <= numResBlocks; block++) {
      ({ output: h, channels } = resnetBlock(ctx, h, `${prefix}.block.${block}`, channels, groups));
      expectChannels(`${prefix}.block.${block}`, channels, config.ch * chMult[level]);
    }
    if (level !== 0) h = upsample(ctx, h, `${prefix}.upsample`);
  }
  h = conv2d(ctx, silu(builder, groupNorm(ctx, h, 'vae.decoder.norm_out', channels, groups)), 'vae.decoder.conv_out');
  expectChannels('vae.decoder.conv_out', convOutputChannels(ctx, 'vae.decoder.conv_out'), 3);
  contractOutput(builder, spec, h, 'pixels', sizes);
}
