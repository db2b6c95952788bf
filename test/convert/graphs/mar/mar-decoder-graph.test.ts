import type { Dtype } from '../../../../src/spec/manifest.js';
import { describe, expect, it } from 'vitest';
import { buildMarDecoderGraph } from '../../../../src/families/unipic1/convert/graphs/mar/mar-decoder-graph.js';
import { buildDecoderEmbedGraph } from '../../../../src/families/unipic1/convert/graphs/mar/decoder-embed-graph.js';
import type { AttentionImplementation } from '../../../../src/families/unipic1/convert/graphs/mar/mar-config.js';
import { MemoryWeights, type WeightSource } from '../../../../src/convert/graphs/weights.js';
import { floatFeed, int64Feed, makeContext, maxRelativeError, randomArray, runGraph, type Runtime } from '../layers/support/graph-runner.js';
import { dequantizedWeights } from './support/dequantized-weights.js';
import { relativeRmsError } from './support/error-metrics.js';
import { decoderEmbedReference, marDecoderReference } from './support/mar-reference.js';
import { TINY_MAR_CONFIG, TINY_MAR_DIMS, tinyMarTensors } from './support/tiny-mar-weights.js';

const dims = TINY_MAR_DIMS;
const tensors = tinyMarTensors(TINY_MAR_DIMS, 300);
const weights = new MemoryWeights(tensors);
const dequantized = {
  q4: dequantizedWeights(tensors, () => true),
  q4f16: dequantizedWeights(tensors, () => true, 'float16'),
};
const F = dims.bufferSize;
const W = dims.decoderWidth;

/** Per batch row: K known positions of an N-position grid, in raster order, different per row. */
function knownSlots(batch: number, known: number, positions: number): number[][] {
  return Array.from({ length: batch }, (_, b) => {
    const chosen = Array.from({ length: positions }, (_, p) => p)
      .sort((p, q) => ((p * 37 + b * 11) % positions) - ((q * 37 + b * 11) % positions))
      .slice(0, known)
      .sort((p, q) => p - q);
    return [...Array.from({ length: F }, (_, i) => i), ...chosen.map((p) => F + p)];
  });
}

async function check(options: {
  batch: number;
  known: number;
  grid: number;
  dtype: Dtype;
  attention?: AttentionImplementation;
  runtime?: Runtime;
  referenceWeights?: WeightSource;
}) {
  const { batch, known, grid, dtype } = options;
  const N = grid * grid;
  const { ctx, finish } = makeContext(weights, dtype);
  buildMarDecoderGraph(ctx, TINY_MAR_CONFIG, { attention: options.attention });
  const graph = finish();
  const length = F + known;
  const encoded = randomArray(batch * length * dims.encoderWidth, 41, 1.5);
  const llmOutput = randomArray(batch * length * dims.hidden, 42, 1.5);
  const slots = knownSlots(batch, known, N);
  const fill = randomArray(batch * (F + N) * W, 43, 1);
  const decoderPositions = randomArray((F + N) * W, 44, 0.5);
  const diffusionPositions = randomArray(N * W, 45, 0.5);

  const out = await runGraph(
    graph,
    {
      x_enc: floatFeed(encoded, [batch, length, dims.encoderWidth]),
      llm_out: floatFeed(llmOutput, [batch, length, dims.hidden]),
      scatter_idx: int64Feed(slots.flat(), [batch, length]),
      fill: floatFeed(fill, [batch, F + N, W]),
      decoder_pos: floatFeed(decoderPositions, [1, F + N, W]),
      diffusion_pos: floatFeed(diffusionPositions, [1, N, W]),
    },
    options.runtime,
  );
  expect(out.z.dims).toEqual([batch, N, W]);
  const expected: number[] = [];
  for (let b = 0; b < batch; b++) {
    expected.push(
      ...marDecoderReference(
        options.referenceWeights ?? weights,
        dims,
        encoded.subarray(b * length * dims.encoderWidth, (b + 1) * length * dims.encoderWidth),
        llmOutput.subarray(b * length * dims.hidden, (b + 1) * length * dims.hidden),
        slots[b],
        fill.subarray(b * (F + N) * W, (b + 1) * (F + N) * W),
        decoderPositions,
        diffusionPositions,
      ),
    );
  }
  return { error: maxRelativeError(out.z.data, expected), rms: relativeRmsError(out.z.data, expected) };
}

describe('mar_decoder graph', () => {
  // fp32 vs the float64 oracle: 1e-4 relative (floor 1e-2).
  it('matches the float64 reference (fp32, B=2, K=5, 4×4 grid, different slots per row)', async () => {
    expect((await check({ batch: 2, known: 5, grid: 4, dtype: 'fp32' })).error).toBeLessThan(1e-4);
  });

  it('works with only the buffers known (K=0) and with every position known (K=N)', async () => {
    expect((await check({ batch: 2, known: 0, grid: 4, dtype: 'fp32' })).error).toBeLessThan(1e-4);
    expect((await check({ batch: 1, known: 16, grid: 4, dtype: 'fp32' })).error).toBeLessThan(1e-4);
  });

  it('handles the interpolated 8×8 grid (tiny 128 px)', async () => {
    expect((await check({ batch: 2, known: 9, grid: 8, dtype: 'fp32' })).error).toBeLessThan(1e-4);
  });

  it('gives the same result with fused MultiHeadAttention', async () => {
    expect((await check({ batch: 2, known: 5, grid: 4, dtype: 'fp32', attention: 'fused' })).error).toBeLessThan(1e-4);
  });

  it('runs in ort-web wasm (standard and fused attention)', async () => {
    for (const attention of ['standard', 'fused'] as const) {
      expect((await check({ batch: 2, known: 5, grid: 4, dtype: 'fp32', attention, runtime: 'web' })).error).toBeLessThan(1e-4);
    }
  });

  // Lossy dtypes, relative RMS error. Measured: fp16 3.7e-4; q4/q4f16 against the float64
  // reference 1.0e-1 (random uniform weights, the worst case for 4-bit blocks), and against a
  // reference on the 4-bit round-tripped weights q4 2.7e-7, q4f16 4.5e-4; q8 1.4e-2 (int8
  // weights per channel, activations quantized per tensor at run time).
  it.each([
    ['fp16', 5e-3],
    ['q4', 0.4],
    ['q4f16', 0.4],
    ['q8', 0.05],
  ] as const)('%s stays within relative RMS %f of the float64 reference', async (dtype, bound) => {
    const { rms } = await check({ batch: 2, known: 5, grid: 4, dtype });
    console.log(`mar_decoder ${dtype}: z ${rms.toExponential(2)}`);
    expect(rms).toBeLessThan(bound);
  });

  it.each([
    ['q4', 1e-5],
    ['q4f16', 5e-3],
  ] as const)('%s matches the reference on dequantised weights within relative RMS %f', async (dtype, bound) => {
    const { rms } = await check({ batch: 2, known: 5, grid: 4, dtype, referenceWeights: dequantized[dtype] });
    console.log(`mar_decoder ${dtype} vs dequantised: z ${rms.toExponential(2)}`);
    expect(rms).toBeLessThan(bound);
  });
});

describe('decoder_embed graph', () => {
  it('embeds x_con rows like decoder_embed (fp32, node and web)', async () => {
    const { ctx, finish } = makeContext(weights, 'fp32');
    buildDecoderEmbedGraph(ctx, TINY_MAR_CONFIG);
    const graph = finish();
    const rows = F + 16;
    const source = randomArray(2 * rows * dims.encoderWidth, 51, 2);
    const expected = decoderEmbedReference(weights, source, dims.encoderWidth);
    for (const runtime of ['node', 'web'] as const) {
      const out = await runGraph(graph, { x_con: floatFeed(source, [2, rows, dims.encoderWidth]) }, runtime);
      expect(out.fill.dims).toEqual([2, rows, W]);
      expect(maxRelativeError(out.fill.data, expected)).toBeLessThan(1e-4);
    }
  });
});
