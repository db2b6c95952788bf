import type { Dtype } from '../../../spec/manifest.js';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { toFloat16Array } from '../../quantize/float16.js';
import { quantizeQ4, scalesAsFloat16, Q4_BLOCK_SIZE } from '../../quantize/q4-blocks.js';
import { quantizeQ8 } from '../../quantize/q8-columns.js';
import type { GraphContext } from '../weights.js';

export interface LinearOptions {
  /**
   * For q4/q4f16/q8 graphs: `false` keeps this weight unquantised (float32 in q4 and q8, float16 in
   * q4f16), for small or sensitive projections. Ignored for fp32/fp16. Default true.
   */
  quantize?: boolean;
  /** MatMulNBits `accuracy_level` (0 = same as input type; 4 = int8 activations on CPU). */
  accuracyLevel?: number;
  /** Symmetric 4-bit blocks (no zero-point tensor); default asymmetric (see quantizeQ4). */
  symmetric?: boolean;
  /**
   * Keep float32 activations for this product in every dtype (fp16 stores the weight float32,
   * q4f16 uses float32 scales and activations): for products whose outputs overflow float16, such
   * as T5's feed-forward output projection.
   */
  keepFloat32?: boolean;
}

/**
 * `x · Wᵀ + b` for a torch `[out, in]` weight, over any leading dims of `x`. `x` and the result are
 * float32 whatever the graph dtype: half-precision paths cast at this boundary, so callers never
 * track element types. The bias is added in float32 after the product.
 */
export function linear(ctx: GraphContext, x: string, weightName: string, biasName?: string, options: LinearOptions = {}): string {
  return ctx.builder.scopedByWeight(weightName, () => scopedLinear(ctx, x, weightName, biasName, options));
}

function scopedLinear(ctx: GraphContext, x: string, weightName: string, biasName: string | undefined, options: LinearOptions): string {
  const { builder, weights } = ctx;
  const shape = weights.shape(weightName);
  if (shape.length !== 2) throw new InvalidModelError(`linear weight ${weightName} must be 2-D, got [${shape.join(', ')}]`);
  const [outFeatures, inFeatures] = shape;
  // A weight of at most one q4 block of values gains nothing from 4 bits (every row pads to a
  // 16-byte block), and onnxruntime 1.30's WebGPU MatMulNBits computes exactly such weights wrong
  // when N·K = 32 over several rows (relative error ≈ 0.9; docs/fidelity.md): keep them unquantised.
  const quantize = (options.quantize ?? true) && outFeatures * inFeatures > Q4_BLOCK_SIZE;
  const storage = storageFor(ctx.dtype, quantize, options.keepFloat32 ?? false);
  const weight = weights.float32(weightName);
  let product: string;

  if (storage === 'q8') {
    // Int8 weights per output channel; ONNX Runtime quantizes the activations to uint8 per tensor
    // at run time and runs its int8 GEMM (VNNI on x86): the compute-bound MAR and head products
    // run ~3× faster than float32 (docs/performance.md, "q8"). The bias is the op's own input.
    const quantized = quantizeQ8(weight, outFeatures, inFeatures);
    const inputs = [
      x,
      builder.initializer(`${weightName}.q8`, 'int8', [inFeatures, outFeatures], new Uint8Array(quantized.codes.buffer)),
      builder.floatInitializer(`${weightName}.scales`, [outFeatures], quantized.scales),
    ];
    if (biasName) inputs.push('', builder.floatInitializer(biasName, [outFeatures], checkedBias(weights.float32(biasName), biasName, outFeatures)));
    return builder.op('DynamicQuantizeMatMul', inputs, {}, 'com.microsoft');
  }
  if (storage === 'float32' || storage === 'float16') {
    const transposed = transpose(weight, outFeatures, inFeatures);
    if (storage === 'float32') {
      product = builder.op('MatMul', [x, builder.floatInitializer(weightName, [inFeatures, outFeatures], transposed)]);
    } else {
      const half = toFloat16Array(transposed);
      const initializer = builder.initializer(weightName, 'float16', [inFeatures, outFeatures], bytesOf(half));
      product = toFloat32(ctx, builder.op('MatMul', [toFloat16(ctx, x), initializer]));
    }
  } else {
    const halfActivations = storage === 'q4f16';
    const quantized = quantizeQ4(weight, outFeatures, inFeatures, {
      symmetric: options.symmetric,
      scaleType: halfActivations ? 'float16' : 'float32',
    });
    const packed = builder.initializer(`${weightName}.q4`, 'uint8', [outFeatures, quantized.blocksPerRow, Q4_BLOCK_SIZE / 2], quantized.packed);
    const scales = halfActivations
      ? builder.initializer(`${weightName}.scales`, 'float16', [quantized.scales.length], bytesOf(scalesAsFloat16(quantized)))
      : builder.floatInitializer(`${weightName}.scales`, [quantized.scales.length], quantized.scales);
    const inputs = [halfActivations ? toFloat16(ctx, x) : x, packed, scales];
    if (quantized.zeroPoints) {
      inputs.push(builder.initializer(`${weightName}.zero_points`, 'uint8', [quantized.zeroPoints.length], quantized.zeroPoints));
    }
    const out = builder.op(
      'MatMulNBits',
      inputs,
      { K: inFeatures, N: outFeatures, bits: 4, block_size: Q4_BLOCK_SIZE, accuracy_level: options.accuracyLevel ?? 0 },
      'com.microsoft',
    );
    product = halfActivations ? toFloat32(ctx, out) : out;
  }

  if (!biasName) return product;
  return builder.op('Add', [product, builder.floatInitializer(biasName, [outFeatures], checkedBias(weights.float32(biasName), biasName, outFeatures))]);
}

function checkedBias(bias: Float32Array, biasName: string, outFeatures: number): Float32Array {
  if (bias.length !== outFeatures) throw new InvalidModelError(`bias ${biasName} has ${bias.length} values, expected ${outFeatures}`);
  return bias;
}

type Storage = 'float32' | 'float16' | 'q4' | 'q4f16' | 'q8';

function storageFor(dtype: Dtype, quantize: boolean, keepFloat32: boolean): Storage {
  if (keepFloat32) {
    if (dtype === 'q8') return quantize ? 'q8' : 'float32';
    return dtype === 'q4' || dtype === 'q4f16' ? (quantize ? 'q4' : 'float32') : 'float32';
  }
  switch (dtype) {
    case 'fp32':
      return 'float32';
    case 'fp16':
      return 'float16';
    case 'q4':
      return quantize ? 'q4' : 'float32';
    case 'q4f16':
      return quantize ? 'q4f16' : 'float16';
    case 'q8':
      return quantize ? 'q8' : 'float32';
  }
}

/** ONNX TensorProto element type codes used by Cast. */
export const ONNX_FLOAT = 1;
export const ONNX_FLOAT16 = 10;

export function toFloat16(ctx: GraphContext, x: string): string {
  return ctx.builder.op('Cast', [x], { to: ONNX_FLOAT16 });
}

export function toFloat32(ctx: GraphContext, x: string): string {
  return ctx.builder.op('Cast', [x], { to: ONNX_FLOAT });
}

function transpose(weight: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(weight.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = weight[r * columns + c];
  return out;
}

function bytesOf(view: Uint16Array | Float32Array): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}
