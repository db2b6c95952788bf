import type { Dtype } from '../../../../src/spec/manifest.js';
import { describe, expect, it } from 'vitest';
import { buildMarEncoderGraph } from '../../../../src/families/unipic1/convert/graphs/mar/mar-encoder-graph.js';
import type { AttentionImplementation } from '../../../../src/families/unipic1/convert/graphs/mar/mar-config.js';
import { floatFeed, makeContext, maxRelativeError, randomArray, runGraph, type Runtime } from '../layers/support/graph-runner.js';
import { relativeRmsError } from './support/error-metrics.js';
import { marEncoderReference } from './support/mar-reference.js';
import { dequantizedWeights } from './support/dequantized-weights.js';
import { TINY_MAR_CONFIG, TINY_MAR_DIMS, tinyMarTensors } from './support/tiny-mar-weights.js';
import { MemoryWeights, type WeightSource } from '../../../../src/convert/graphs/weights.js';

const dims = TINY_MAR_DIMS;
const tensors = tinyMarTensors();
const weights = new MemoryWeights(tensors);
// What the q4 graph multiplies by: every linear but z_proj (kept float) rounded through 4 bits.
const isQuantized = (name: string): boolean => name !== 'mar.z_proj.weight';
const dequantized = {
  q4: dequantizedWeights(tensors, isQuantized),
  q4f16: dequantizedWeights(tensors, isQuantized, 'float16'),
};
const GRID_POSITIONS = 16; // tiny 64 px image: 4×4 latent grid
const table = randomArray((dims.bufferSize + GRID_POSITIONS) * dims.encoderWidth, 7, 0.5);

/** Known positions per batch row (raster order, equal K per row, different sets). */
function knownPositions(known: number, batch: number): number[][] {
  return Array.from({ length: batch }, (_, b) =>
    Array.from({ length: GRID_POSITIONS }, (_, p) => p)
      .filter((p) => (p * 7 + b * 3) % 5 !== 0 || known > 12)
      .slice(0, known),
  );
}

function gatherPositions(positions: number[]): Float32Array {
  const W = dims.encoderWidth;
  const slots = [...Array.from({ length: dims.bufferSize }, (_, i) => i), ...positions.map((p) => dims.bufferSize + p)];
  const out = new Float32Array(slots.length * W);
  slots.forEach((slot, r) => out.set(table.subarray(slot * W, (slot + 1) * W), r * W));
  return out;
}

async function check(options: {
  batch: number;
  known: number;
  dtype: Dtype;
  attention?: AttentionImplementation;
  runtime?: Runtime;
  referenceWeights?: WeightSource;
}) {
  const { batch, known, dtype } = options;
  const { ctx, finish } = makeContext(weights, dtype);
  buildMarEncoderGraph(ctx, TINY_MAR_CONFIG, { attention: options.attention });
  const graph = finish();
  const F = dims.bufferSize;
  const latents = randomArray(batch * known * dims.tokenDim, 21 + known, 1.5);
  const rowsPerBatch = knownPositions(known, batch);
  const positions = new Float32Array(batch * (F + known) * dims.encoderWidth);
  rowsPerBatch.forEach((row, b) => positions.set(gatherPositions(row), b * (F + known) * dims.encoderWidth));

  const out = await runGraph(
    graph,
    {
      latents: floatFeed(latents, [batch, known, dims.tokenDim]),
      pos_embed: floatFeed(positions, [batch, F + known, dims.encoderWidth]),
    },
    options.runtime,
  );
  expect(out.x_enc.dims).toEqual([batch, F + known, dims.encoderWidth]);
  expect(out.llm_in.dims).toEqual([batch, known + F, dims.hidden]);

  const encodedExpected: number[] = [];
  const llmExpected: number[] = [];
  for (let b = 0; b < batch; b++) {
    const row = marEncoderReference(
      options.referenceWeights ?? weights,
      dims,
      latents.subarray(b * known * dims.tokenDim, (b + 1) * known * dims.tokenDim),
      positions.subarray(b * (F + known) * dims.encoderWidth, (b + 1) * (F + known) * dims.encoderWidth),
    );
    encodedExpected.push(...row.encoded);
    llmExpected.push(...row.llmInput);
  }
  return {
    encodedError: maxRelativeError(out.x_enc.data, encodedExpected),
    llmError: maxRelativeError(out.llm_in.data, llmExpected),
    encodedRms: relativeRmsError(out.x_enc.data, encodedExpected),
    llmRms: relativeRmsError(out.llm_in.data, llmExpected),
  };
}

describe('mar_encoder graph', () => {
  // fp32 vs the float64 oracle: 1e-4 relative (floor 1e-2), the team's fp32 bound.
  it('matches the float64 reference (fp32, B=2, K=5)', async () => {
    const { encodedError, llmError } = await check({ batch: 2, known: 5, dtype: 'fp32' });
    expect(encodedError).toBeLessThan(1e-4);
    expect(llmError).toBeLessThan(1e-4);
  });

  it('works with only the buffers (K=0)', async () => {
    const { encodedError, llmError } = await check({ batch: 2, known: 0, dtype: 'fp32' });
    expect(encodedError).toBeLessThan(1e-4);
    expect(llmError).toBeLessThan(1e-4);
  });

  it('works with every position known (K=N)', async () => {
    const { encodedError, llmError } = await check({ batch: 1, known: GRID_POSITIONS, dtype: 'fp32' });
    expect(encodedError).toBeLessThan(1e-4);
    expect(llmError).toBeLessThan(1e-4);
  });

  it('gives the same result with fused MultiHeadAttention', async () => {
    const { encodedError, llmError } = await check({ batch: 2, known: 5, dtype: 'fp32', attention: 'fused' });
    expect(encodedError).toBeLessThan(1e-4);
    expect(llmError).toBeLessThan(1e-4);
  });

  it('runs in ort-web wasm (standard and fused attention)', async () => {
    for (const attention of ['standard', 'fused'] as const) {
      const { encodedError, llmError } = await check({ batch: 2, known: 3, dtype: 'fp32', attention, runtime: 'web' });
      expect(encodedError).toBeLessThan(1e-4);
      expect(llmError).toBeLessThan(1e-4);
    }
  });

  // Lossy dtypes, relative RMS error against the float64 reference on these tiny random weights.
  // Measured: fp16 4.4e-4 (x_enc) / 8.5e-4 (llm_in); q4 and q4f16 1.3e-1 / 1.8e-1 (uniform random
  // weights are the worst case for 4-bit blocks); q8 1.0e-2 / 1.9e-2 (int8 weights per channel,
  // activations quantized per tensor at run time). Bounds are a few times the measurements.
  it.each([
    ['fp16', 5e-3],
    ['q4', 0.4],
    ['q4f16', 0.4],
    ['q8', 0.06],
  ] as const)('%s stays within relative RMS %f of the float64 reference', async (dtype, bound) => {
    const { encodedRms, llmRms } = await check({ batch: 2, known: 5, dtype });
    console.log(`mar_encoder ${dtype}: x_enc ${encodedRms.toExponential(2)}, llm_in ${llmRms.toExponential(2)}`);
    expect(encodedRms).toBeLessThan(bound);
    expect(llmRms).toBeLessThan(bound);
  });

  // Against a reference that uses the 4-bit round-tripped weights, only activation rounding is
  // left: q4 keeps float32 activations (measured 3e-7); q4f16 rounds them to half (measured
  // 3.6e-4 / 7.2e-4, the same as fp16).
  it.each([
    ['q4', 1e-5],
    ['q4f16', 5e-3],
  ] as const)('%s matches the reference on dequantised weights within relative RMS %f', async (dtype, bound) => {
    const { encodedRms, llmRms } = await check({ batch: 2, known: 5, dtype, referenceWeights: dequantized[dtype] });
    console.log(`mar_encoder ${dtype} vs dequantised: x_enc ${encodedRms.toExponential(2)}, llm_in ${llmRms.toExponential(2)}`);
    expect(encodedRms).toBeLessThan(bound);
    expect(llmRms).toBeLessThan(bound);
  });
});
