import { InvalidModelError } from '../../../../errors/invalid-model-error.js';
import { silu } from '../../../../convert/graphs/layers/activations.js';
import type { GraphContext } from '../../../../convert/graphs/weights.js';
import { conv2d, convOutputChannels } from '../../../../convert/graphs/vae/conv.js';
import { downsample } from '../../../../convert/graphs/vae/resample.js';
import { expectChannels } from '../../../../convert/graphs/vae/channel-check.js';
import { channelL2Norm } from './channel-l2-norm.js';
import { qwenMidBlock, qwenResidualBlock, type VaeAttention } from './qwen-vae-blocks.js';
import { qwenVaeScaleFactor, type QwenVaeConfig } from './qwen-vae-config.js';

/**
 * `vae_encoder` for single images: `pixels [B, 3, H, W]` in [−1, 1] → normalised latents
 * `(μ − latents_mean) / latents_std` `[B, z, H/8, W/8]`, μ = the first z channels after
 * `quant_conv` (the pipeline takes the posterior mode). `weights` must present 2-D kernels
 * (FrameSliceWeights over the published 3-D checkpoint).
 */
export function buildQwenVaeEncoderGraph(ctx: GraphContext, config: QwenVaeConfig, attention: VaeAttention = 'standard'): void {
  const { builder } = ctx;
  const { baseDim, dimMult, numResBlocks, zDim } = config;
  const factor = qwenVaeScaleFactor(config);
  const pixels = builder.input('pixels', 'float32', ['batch', 3, 'height', 'width']);
  let h = conv2d(ctx, pixels, 'encoder.conv_in');
  let channels = convOutputChannels(ctx, 'encoder.conv_in');
  expectChannels('encoder.conv_in', channels, baseDim);
  let index = 0;
  dimMult.forEach((mult, level) => {
    for (let block = 0; block < numResBlocks; block++) {
      ({ output: h, channels } = qwenResidualBlock(ctx, h, `encoder.down_blocks.${index++}`, channels));
      expectChannels(`encoder.down_blocks.${index - 1}`, channels, baseDim * mult);
    }
    if (level !== dimMult.length - 1) {
      // ZeroPad2d((0, 1, 0, 1)) then a 3×3 stride-2 conv; the module's time_conv never runs on one frame.
      h = downsample(ctx, h, `encoder.down_blocks.${index++}.resample`, '1');
    }
  });
  if (ctx.weights.has(`encoder.down_blocks.${index}.norm1.gamma`)) {
    throw new InvalidModelError(`encoder.down_blocks.${index} exists but the config describes ${index} down blocks`);
  }
  h = qwenMidBlock(ctx, h, 'encoder.mid_block', channels, attention);
  h = conv2d(ctx, silu(builder, channelL2Norm(ctx, h, 'encoder.norm_out.gamma', channels)), 'encoder.conv_out');
  expectChannels('encoder.conv_out', convOutputChannels(ctx, 'encoder.conv_out'), 2 * zDim);
  h = conv2d(ctx, h, 'quant_conv');
  const mean = builder.op('Slice', [h, builder.constInt64([0]), builder.constInt64([zDim]), builder.constInt64([1])]);
  const shape = [1, zDim, 1, 1];
  const normalized = builder.op('Div', [builder.op('Sub', [mean, builder.constFloat(config.latentsMean, shape)]), builder.constFloat(config.latentsStd, shape)]);
  builder.output(normalized, 'latents', 'float32', ['batch', zDim, `height/${factor}`, `width/${factor}`]);
}
