import type { Dtype } from '../../../../src/spec/manifest.js';
import { describe, expect, it } from 'vitest';
import { linear } from '../../../../src/convert/graphs/layers/linear.js';
import { MemoryWeights } from '../../../../src/convert/graphs/weights.js';
import { quantizeQ4 } from '../../../../src/convert/quantize/q4-blocks.js';
import { roundToFloat16 } from '../../../../src/convert/quantize/float16.js';
import { onnx } from '../../../../src/convert/onnx/proto.js';
import { dequantizeQ4 } from '../../quantize/support/q4-reference.js';
import { floatFeed, makeContext, maxNormalizedError, maxRelativeError, randomArray, runGraph, type Runtime } from './support/graph-runner.js';

/** float64 reference: y[r, o] = Σ_i x[r, i]·W[o, i] + b[o]. */
function linearReference(
  x: ArrayLike<number>,
  rows: number,
  weight: ArrayLike<number>,
  bias: ArrayLike<number> | undefined,
  out: number,
  inFeatures: number,
): Float64Array {
  const y = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let sum = bias ? bias[o] : 0;
      for (let i = 0; i < inFeatures; i++) sum += x[r * inFeatures + i] * weight[o * inFeatures + i];
      y[r * out + o] = sum;
    }
  }
  return y;
}

const OUT = 24;
const IN = 72; // not a multiple of 32: exercises the padded last q4 block
const weight = randomArray(OUT * IN, 11, 0.5);
const bias = randomArray(OUT, 12, 0.5);
const x = randomArray(2 * 3 * IN, 13);

async function run(dtype: Dtype, withBias: boolean, options: { symmetric?: boolean; runtime?: Runtime } = {}) {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = { 'w.weight': { shape: [OUT, IN], data: weight } };
  if (withBias) tensors['w.bias'] = { shape: [OUT], data: bias };
  const { ctx, finish } = makeContext(new MemoryWeights(tensors), dtype);
  const input = ctx.builder.input('x', 'float32', [2, 'R', IN]);
  ctx.builder.output(linear(ctx, input, 'w.weight', withBias ? 'w.bias' : undefined, { symmetric: options.symmetric }), 'y', 'float32', [2, 'R', OUT]);
  const out = await runGraph(finish(), { x: floatFeed(x, [2, 3, IN]) }, options.runtime);
  expect(out.y.dims).toEqual([2, 3, OUT]);
  return out.y.data;
}

describe('linear', () => {
  for (const withBias of [true, false]) {
    const b = withBias ? bias : undefined;
    const label = withBias ? 'with bias' : 'without bias';

    it(`fp32 ${label}: float64 product within 1e-4 relative, leading dims kept`, async () => {
      expect(maxRelativeError(await run('fp32', withBias), linearReference(x, 6, weight, b, OUT, IN))).toBeLessThan(1e-4);
    });

    it(`fp16 ${label}: equals the product of half-rounded operands (fp32 accumulation)`, async () => {
      const y = await run('fp16', withBias);
      const halfX = Array.from(x, roundToFloat16);
      const halfW = Array.from(weight, roundToFloat16);
      // Half operands, half result (2^-11 relative rounding): measured 2.3e-4 normalized.
      expect(maxNormalizedError(y, linearReference(halfX, 6, halfW, b, OUT, IN))).toBeLessThan(1e-3);
      // Against the float operands: measured 1.6e-4 normalized.
      expect(maxNormalizedError(y, linearReference(x, 6, weight, b, OUT, IN))).toBeLessThan(5e-3);
    });

    for (const symmetric of [false, true]) {
      it(`q4 ${symmetric ? 'symmetric' : 'asymmetric'} ${label}: equals the float64 product with dequantised weights`, async () => {
        const y = await run('q4', withBias, { symmetric });
        const dequantized = dequantizeQ4(quantizeQ4(weight, OUT, IN, { symmetric }));
        // Exact dequantisation in float32 inside MatMulNBits; only summation order differs
        // (measured 2.3e-7 normalized).
        expect(maxNormalizedError(y, linearReference(x, 6, dequantized, b, OUT, IN))).toBeLessThan(1e-5);
        // Against the float weights: the 4-bit error itself, measured 0.063 (asymmetric) and
        // 0.078 (symmetric) normalized on this 24×72 matrix.
        expect(maxNormalizedError(y, linearReference(x, 6, weight, b, OUT, IN))).toBeLessThan(0.15);
      });
    }

    it(`q4f16 ${label}: dequantised product with half activations`, async () => {
      const y = await run('q4f16', withBias);
      const dequantized = dequantizeQ4(quantizeQ4(weight, OUT, IN, { scaleType: 'float16' }));
      const halfX = Array.from(x, roundToFloat16);
      // Half activations and result on exact half-scale dequantised weights: measured 2.2e-4.
      expect(maxNormalizedError(y, linearReference(halfX, 6, dequantized, b, OUT, IN))).toBeLessThan(2e-3);
    });
  }

  it('asymmetric blocks fit random weights at least as well as symmetric ones', () => {
    const error = (symmetric: boolean) => maxNormalizedError(dequantizeQ4(quantizeQ4(weight, OUT, IN, { symmetric })), weight);
    expect(error(false)).toBeLessThanOrEqual(error(true));
  });

  // A weight of at most one q4 block (N·K ≤ 32) stays unquantised: 4 bits save nothing there, and
  // onnxruntime 1.30's WebGPU MatMulNBits computes N·K = 32 over several rows wrong (docs/fidelity.md).
  it.each([
    ['q4', 4, 8, 'MatMul', 'float32'],
    ['q4f16', 4, 8, 'MatMul', 'float16'],
    ['q4f16', 8, 4, 'MatMul', 'float16'],
    ['q4f16', 8, 8, 'MatMulNBits', 'uint8'],
    ['q4', 1, 33, 'MatMulNBits', 'uint8'],
  ] as const)('%s %i×%i weight → %s on %s', async (dtype, out, inFeatures, op, storedAs) => {
    const small = randomArray(out * inFeatures, 21, 0.5);
    const { ctx, finish } = makeContext(new MemoryWeights({ 'w.weight': { shape: [out, inFeatures], data: small } }), dtype);
    ctx.builder.output(linear(ctx, ctx.builder.input('x', 'float32', [1, inFeatures]), 'w.weight'), 'y', 'float32', [1, out]);
    const graph = finish();
    const decoded = onnx.ModelProto.decode(graph.bytes).graph!;
    expect(decoded.node!.filter((node) => (node.opType ?? '').startsWith('MatMul')).map((node) => node.opType)).toEqual([op]);
    const types = { 1: 'float32', 10: 'float16', 2: 'uint8' } as Record<number, string>;
    const weightTensor = decoded.initializer!.find((tensor) => tensor.name!.startsWith('w.weight'))!;
    expect(types[weightTensor.dataType!]).toBe(storedAs);
    const xs = randomArray(inFeatures, 22);
    const y = (await runGraph(graph, { x: floatFeed(xs, [1, inFeatures]) })).y.data;
    const weights = op === 'MatMul' ? (dtype === 'q4f16' ? Array.from(small, roundToFloat16) : small) : dequantizeQ4(quantizeQ4(small, out, inFeatures));
    const reference = linearReference(dtype === 'q4f16' ? Array.from(xs, roundToFloat16) : xs, 1, weights, undefined, out, inFeatures);
    expect(maxNormalizedError(y, reference)).toBeLessThan(2e-3);
  });

  it('runs in ort-web wasm too (fp32 and q4)', async () => {
    expect(maxRelativeError(await run('fp32', true, { runtime: 'web' }), linearReference(x, 6, weight, bias, OUT, IN))).toBeLessThan(1e-4);
    const dequantized = dequantizeQ4(quantizeQ4(weight, OUT, IN));
    expect(maxNormalizedError(await run('q4', true, { runtime: 'web' }), linearReference(x, 6, dequantized, bias, OUT, IN))).toBeLessThan(1e-5);
  });
});
