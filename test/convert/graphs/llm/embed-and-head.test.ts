import type { Dtype } from '../../../../src/spec/manifest.js';
import { onnx } from '../../../../src/convert/onnx/proto.js';
import { describe, expect, it } from 'vitest';
import { buildEmbedGraph } from '../../../../src/convert/graphs/llm/embed-graph.js';
import { buildLmHeadGraph } from '../../../../src/convert/graphs/llm/lm-head-graph.js';
import { MemoryWeights } from '../../../../src/convert/graphs/weights.js';
import { quantizeQ4 } from '../../../../src/convert/quantize/q4-blocks.js';
import { roundToFloat16 } from '../../../../src/convert/quantize/float16.js';
import { dequantizeQ4 } from '../../quantize/support/q4-reference.js';
import { floatFeed, int64Feed, makeContext, maxNormalizedError, maxRelativeError, randomArray, runGraph, type Runtime } from '../layers/support/graph-runner.js';
import { TINY_LLM, WIDE_LLM } from './support/tiny-llm.js';

const VOCAB = 300;

function table(vocab: number, hidden: number, seed: number): Float32Array {
  return randomArray(vocab * hidden, seed, 0.5);
}

async function embed(weights: MemoryWeights, hidden: number, dtype: Dtype, ids: number[], runtime: Runtime = 'node', quantize?: boolean) {
  const { ctx, finish } = makeContext(weights, dtype);
  buildEmbedGraph(ctx, { llm: { ...WIDE_LLM, hiddenSize: hidden } }, { quantize });
  const out = await runGraph(finish(), { input_ids: int64Feed(ids, [2, ids.length / 2]) }, runtime);
  expect(out.inputs_embeds.dims).toEqual([2, ids.length / 2, hidden]);
  return out.inputs_embeds.data;
}

/** The rows of `source` (`[V, H]`) at `ids`, as plain arrays. */
function lookup(source: ArrayLike<number>, hidden: number, ids: number[]): number[] {
  return ids.flatMap((id) => Array.from({ length: hidden }, (_, i) => source[id * hidden + i]));
}

describe('embed graph', () => {
  const ids = [0, 17, 299, 17, 5, 123];
  for (const hidden of [WIDE_LLM.hiddenSize, TINY_LLM.hiddenSize]) {
    const data = table(VOCAB, hidden, hidden);
    const weights = new MemoryWeights({ 'llm.model.embed_tokens.weight': { shape: [VOCAB, hidden], data } });

    it(`fp32 (H=${hidden}) returns the exact rows`, async () => {
      expect(Array.from(await embed(weights, hidden, 'fp32', ids))).toEqual(lookup(data, hidden, ids));
    });
    it(`fp16 (H=${hidden}) returns the half-rounded rows exactly`, async () => {
      expect(Array.from(await embed(weights, hidden, 'fp16', ids))).toEqual(lookup(data, hidden, ids).map(roundToFloat16));
    });
    for (const dtype of ['q4', 'q4f16'] as const) {
      it(`${dtype} (H=${hidden}) returns the dequantised rows (GatherBlockQuantized) on node and web`, async () => {
        const dequantized = dequantizeQ4(quantizeQ4(data, VOCAB, hidden, { scaleType: dtype === 'q4f16' ? 'float16' : 'float32' }));
        const expected = lookup(dequantized, hidden, ids);
        // q4: the float32 product code·scale is exact to 1 ulp; q4f16 rounds it to half (2^-11).
        const tolerance = dtype === 'q4' ? 1e-6 : 1e-3;
        for (const runtime of ['node', 'web'] as const) {
          expect(maxRelativeError(await embed(weights, hidden, dtype, ids, runtime), expected)).toBeLessThan(tolerance);
        }
        // Against the float table: the 4-bit error, ≤ half a step ≈ (range/15)/2 ≈ 0.033 of 0.5.
        expect(maxNormalizedError(await embed(weights, hidden, dtype, ids), lookup(data, hidden, ids))).toBeLessThan(0.1);
      });
    }
    it(`q4 with quantize: false keeps float32 rows (H=${hidden})`, async () => {
      expect(Array.from(await embed(weights, hidden, 'q4', ids, 'node', false))).toEqual(lookup(data, hidden, ids));
    });
  }

  it('an odd number of 4-bit blocks per row is widened to an even one, so WebGPU accepts the zero points', async () => {
    // ORT's WebGPU kernel wants zero_points.shape[-1]·2 = scales.shape[-1] (one nibble per scale).
    const hidden = 96; // 3 blocks of 32
    const data = table(VOCAB, hidden, 7);
    const weights = new MemoryWeights({ 'llm.model.embed_tokens.weight': { shape: [VOCAB, hidden], data } });
    for (const dtype of ['q4', 'q4f16'] as const) {
      const { ctx, finish } = makeContext(weights, dtype);
      buildEmbedGraph(ctx, { llm: { ...WIDE_LLM, hiddenSize: hidden } });
      const model = onnx.ModelProto.decode(finish().bytes);
      const dims = (suffix: string) => model.graph!.initializer!.find((t) => t.name!.endsWith(suffix))!.dims!.map(Number);
      expect(dims('.scales')).toEqual([VOCAB, 4]);
      expect(dims('.zero_points')).toEqual([VOCAB, 2]);
      expect(dims('.q4')).toEqual([VOCAB, 64]);
      const expected = lookup(dequantizeQ4(quantizeQ4(data, VOCAB, hidden, { scaleType: dtype === 'q4f16' ? 'float16' : 'float32' })), hidden, ids);
      expect(maxRelativeError(await embed(weights, hidden, dtype, ids), expected)).toBeLessThan(dtype === 'q4' ? 1e-6 : 1e-3);
    }
  });

  it('full Qwen vocabulary (151936) with the tiny width', async () => {
    const vocab = TINY_LLM.vocabSize;
    const data = table(vocab, TINY_LLM.hiddenSize, 77);
    const weights = new MemoryWeights({ 'llm.model.embed_tokens.weight': { shape: [vocab, TINY_LLM.hiddenSize], data } });
    const last = [151643, 151645, 151935, 0];
    expect(Array.from(await embed(weights, TINY_LLM.hiddenSize, 'fp32', last))).toEqual(lookup(data, TINY_LLM.hiddenSize, last));
  });
});

describe('lm_head graph', () => {
  const hidden = WIDE_LLM.hiddenSize;
  const embedTable = table(VOCAB, hidden, 5);
  const x = randomArray(2 * hidden, 6);

  function logitsReference(weight: ArrayLike<number>): Float64Array {
    const out = new Float64Array(2 * VOCAB);
    for (let b = 0; b < 2; b++)
      for (let v = 0; v < VOCAB; v++) {
        let sum = 0;
        for (let i = 0; i < hidden; i++) sum += x[b * hidden + i] * weight[v * hidden + i];
        out[b * VOCAB + v] = sum;
      }
    return out;
  }

  async function logits(weights: MemoryWeights, dtype: Dtype, runtime: Runtime = 'node', tied = true) {
    const { ctx, finish } = makeContext(weights, dtype);
    buildLmHeadGraph(ctx, { llm: WIDE_LLM }, { tied });
    const out = await runGraph(finish(), { hidden: floatFeed(x, [2, hidden]) }, runtime);
    expect(out.logits.dims).toEqual([2, VOCAB]);
    return out.logits.data;
  }

  it('is the embedding when tied (fp32, node and web)', async () => {
    const weights = new MemoryWeights({ 'llm.model.embed_tokens.weight': { shape: [VOCAB, hidden], data: embedTable } });
    for (const runtime of ['node', 'web'] as const) {
      expect(maxRelativeError(await logits(weights, 'fp32', runtime), logitsReference(embedTable))).toBeLessThan(1e-4);
    }
  });

  it('untied (tie_word_embeddings: false) is llm.lm_head.weight, not the embedding', async () => {
    const head = table(VOCAB, hidden, 8);
    const weights = new MemoryWeights({ 'llm.lm_head.weight': { shape: [VOCAB, hidden], data: head } });
    expect(maxRelativeError(await logits(weights, 'fp32', 'node', false), logitsReference(head))).toBeLessThan(1e-4);
  });

  it('q4 equals the product with the dequantised table', async () => {
    const weights = new MemoryWeights({ 'llm.model.embed_tokens.weight': { shape: [VOCAB, hidden], data: embedTable } });
    const dequantized = dequantizeQ4(quantizeQ4(embedTable, VOCAB, hidden));
    // Float32 summation order only (measured ~2e-7 normalized).
    expect(maxNormalizedError(await logits(weights, 'q4'), logitsReference(dequantized))).toBeLessThan(1e-5);
  });
});
