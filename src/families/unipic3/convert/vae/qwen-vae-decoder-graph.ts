import { InvalidModelError } from '../../../../errors/invalid-model-error.js';
import { silu } from '../../../../convert/graphs/layers/activations.js';
import type { GraphContext } from '../../../../convert/graphs/weights.js';
import { conv2d, convOutputChannels } from '../../../../convert/graphs/vae/conv.js';
import { upsample } from '../../../../convert/graphs/vae/resample.js';
import { expectChannels } from '../../../../convert/graphs/vae/channel-check.js';
import { channelL2Norm } from './channel-l2-norm.js';
import { qwenMidBlock, qwenResidualBlock, type VaeAttention } from './qwen-vae-blocks.js';
import { qwenVaeScaleFactor, type QwenVaeConfig } from './qwen-vae-config.js';

/**
 * `vae_decoder` for single images: normalised latents `[B, z, h, w]` → `z / (1/std) + mean`
 * (the official pipeline divides by the reciprocal, `pipeline_qwenimage_edit.py`) → `post_quant_conv` → decoder
 * (mid, then per level `num_res_blocks + 1` residual blocks and a nearest ×2 + conv that halves
 * the channels, except the last level) → `pixels [B, 3, 8h, 8w]` clamped to [−1, 1].
 */
export function buildQwenVaeDecoderGraph(ctx: GraphContext, config: QwenVaeConfig, attention: VaeAttention = 'standard'): void {
  const { builder } = ctx;
  const { baseDim, dimMult, numResBlocks, zDim } = config;
  const factor = qwenVaeScaleFactor(config);
  const latents = builder.input('latents', 'float32', ['batch', zDim, 'latent_height', 'latent_width']);
  const shape = [1, zDim, 1, 1];
  const reciprocal = config.latentsStd.map((std) => Math.fround(1 / Math.fround(std)));
  const unnormalized = builder.op('Add', [builder.op('Div', [latents, builder.constFloat(reciprocal, shape)]), builder.constFloat(config.latentsMean, shape)]);
  let h = conv2d(ctx, unnormalized, 'post_quant_conv');
  expectChannels('post_quant_conv', convOutputChannels(ctx, 'post_quant_conv'), zDim);
  h = conv2d(ctx, h, 'decoder.conv_in');
  let channels = convOutputChannels(ctx, 'decoder.conv_in');
  const deepest = baseDim * dimMult[dimMult.length - 1];
  expectChannels('decoder.conv_in', channels, deepest);
  h = qwenMidBlock(ctx, h, 'decoder.mid_block', channels, attention);
  const outDims = [...dimMult].reverse().map((mult) => baseDim * mult);
  outDims.forEach((outDim, level) => {
    const prefix = `decoder.up_blocks.${level}`;
    for (let block = 0; block <= numResBlocks; block++) {
      ({ output: h, channels } = qwenResidualBlock(ctx, h, `${prefix}.resnets.${block}`, channels));
      expectChannels(`${prefix}.resnets.${block}`, channels, outDim);
    }
    if (level !== outDims.length - 1) {
      // nearest-exact ×2 equals floor-nearest for factor 2; the conv halves the channels.
      h = upsample(ctx, h, `${prefix}.upsamplers.0.resample`, '1');
      channels = convOutputChannels(ctx, `${prefix}.upsamplers.0.resample.1`);
      expectChannels(`${prefix}.upsamplers.0.resample.1`, channels, outDim / 2);
    } else if (ctx.weights.has(`${prefix}.upsamplers.0.resample.1.weight`)) {
      throw new InvalidModelError(`${prefix} has an upsampler but is the last decoder level`);
    }
  });
  h = conv2d(ctx, silu(builder, channelL2Norm(ctx, h, 'decoder.norm_out.gamma', channels)), 'decoder.conv_out');
  expectChannels('decoder.conv_out', convOutputChannels(ctx, 'decoder.conv_out'), 3);
  const clamped = builder.op('Clip', [h, builder.constFloat([-1], []), builder.constFloat([1], [])]);
  builder.output(clamped, 'pixels', 'float32', ['batch', 3, `latent_height*${factor}`, `latent_width*${factor}`]);
}
