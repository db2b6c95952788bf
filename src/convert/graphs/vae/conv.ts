import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { toFloat16Array } from '../../quantize/float16.js';
import { toFloat16, toFloat32 } from '../layers/linear.js';
import type { GraphContext } from '../weights.js';

export interface ConvOptions {
  readonly stride?: number;
  /** `[top, left, bottom, right]`; default "same" padding for an odd kernel. */
  readonly pads?: readonly [number, number, number, number];
}

/**
 * torch `Conv2d` from `<prefix>.weight [out, in, k, k]` and `<prefix>.bias [out]`, float32 in and
 * out. Half-precision graph dtypes (`fp16`, `q4f16`) store the kernel in fp16 and run the Conv in
 * half with Casts around it; `fp32` and `q4` keep it float32 (4-bit blocks are for MatMuls).
 */
export function conv2d(ctx: GraphContext, x: string, prefix: string, options: ConvOptions = {}): string {
  const { builder, weights } = ctx;
  const weightName = `${prefix}.weight`;
  const biasName = `${prefix}.bias`;
  const shape = weights.shape(weightName);
  if (shape.length !== 4 || shape[2] !== shape[3]) {
    throw new InvalidModelError(`${weightName} must be a square 2-D convolution kernel, got [${shape.join(', ')}]`);
  }
  const [outChannels, , kernel] = shape;
  const margin = (kernel - 1) / 2;
  const pads = options.pads ?? [margin, margin, margin, margin];
  const attributes = { kernel_shape: [kernel, kernel], strides: [options.stride ?? 1, options.stride ?? 1], pads: [...pads] };
  const half = ctx.dtype === 'fp16' || ctx.dtype === 'q4f16';
  // A strip graph runs the same conv in several passes: its weights are added once.
  if (builder.hasInitializer(weightName)) {
    const inputs = [weightName, biasName];
    return half ? toFloat32(ctx, builder.op('Conv', [toFloat16(ctx, x), ...inputs], attributes)) : builder.op('Conv', [x, ...inputs], attributes);
  }
  const weight = weights.float32(weightName);
  const bias = weights.float32(biasName);
  if (bias.length !== outChannels) throw new InvalidModelError(`${biasName} has ${bias.length} values, expected ${outChannels}`);

  if (half) {
    const halfWeight = builder.initializer(weightName, 'float16', shape, bytesOf(toFloat16Array(weight)));
    const halfBias = builder.initializer(biasName, 'float16', [outChannels], bytesOf(toFloat16Array(bias)));
    return toFloat32(ctx, builder.op('Conv', [toFloat16(ctx, x), halfWeight, halfBias], attributes));
  }
  return builder.op('Conv', [x, builder.floatInitializer(weightName, shape, weight), builder.floatInitializer(biasName, [outChannels], bias)], attributes);
}

/** Output channels of the convolution stored under `prefix`. */
export function convOutputChannels(ctx: GraphContext, prefix: string): number {
  return ctx.weights.shape(`${prefix}.weight`)[0];
}

function bytesOf(view: Uint16Array): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}
