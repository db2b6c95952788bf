import { describe, expect, it } from 'vitest';
import { InPlaceKvCache } from '../../../../src/core/in-place-kv-cache.js';
import { float32 } from '../../../../src/core/tensor.js';
import type { LlmConfig } from '../../../../src/convert/graphs/llm/llm-graph.js';
import type { DeviceTensor, HostTensor } from '../../../../src/spec/backend.js';
import type { InPlaceKvLayout } from '../../../../src/spec/manifest.js';
import { floatFeed, int64Feed, maxRelativeError, randomArray, runGraph, type Feed, type Output, type Runtime } from '../layers/support/graph-runner.js';
import { buildLlm, emptyPast, runLlm } from './support/llm-graph-runner.js';
import { WIDE_LLM, randomLlmWeights } from './support/tiny-llm.js';

// Same arithmetic as the concat graph; only the summation split (cache slots, then new positions) differs.
const TOLERANCE = 1e-5;

/** Host outputs as the DeviceTensor the cache takes. */
const asDevice = (output: Output): DeviceTensor => {
  const host: HostTensor = float32(output.dims, output.data);
  return { ...host, location: 'cpu', download: async () => host, dispose: () => undefined };
};

const toFeed = (tensor: HostTensor): Feed =>
  tensor.type === 'int64' ? int64Feed(Array.from(tensor.data as BigInt64Array, Number), [...tensor.dims]) : floatFeed(tensor.data as Float32Array, [...tensor.dims]);

/**
 * Prefill, a chunk and single-token steps (the graph's two forms of the cache products, chosen by
 * the run's length) through the in-place graph and cache, against the same
 * calls chained through the concat graph (present → past), which test/convert/graphs/llm/llm-graph.test.ts
 * checks against the float64 Qwen2 oracle. `growth` 4 makes the cache regrow mid-sequence.
 */
async function compareSequence(llm: LlmConfig, lengths: readonly number[], runtime: Runtime, layout: InPlaceKvLayout = 'values-transposed') {
  const weights = randomLlmWeights(llm, 300);
  const concat = buildLlm(weights, llm);
  const inPlace = buildLlm(weights, llm, 'fp32', { kvCache: 'in-place', inPlaceLayout: layout });
  const cache = new InPlaceKvCache(llm, 1, 4, layout);
  let past = emptyPast(llm) as { key: ArrayLike<number>; value: ArrayLike<number> }[];
  let done = 0;
  for (const [step, length] of lengths.entries()) {
    const embeds = randomArray(length * llm.hiddenSize, 40 + step);
    const expected = await runLlm(
      concat,
      llm,
      {
        batch: 1,
        length,
        inputsEmbeds: embeds,
        attentionMask: new Array(done + length).fill(1),
        positionIds: Array.from({ length }, (_, i) => done + i),
        pastLength: done,
        past,
      },
      runtime,
    );
    past = Array.from({ length: llm.numLayers }, (_, i) => ({ key: expected[`present.${i}.key`].data, value: expected[`present.${i}.value`].data }));

    const feeds = cache.stepInputs(float32([1, length, llm.hiddenSize], embeds), length);
    const actual = await runGraph(inPlace, Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, toFeed(t as HostTensor)])), runtime);
    const error = maxRelativeError(actual.last_hidden_state.data, expected.last_hidden_state.data);
    expect(error, `step ${step} (${length} new after ${done}): max relative error ${error}`).toBeLessThan(TOLERANCE);
    expect(actual['new_key_values.0.key'].dims).toEqual([1, llm.numKeyValueHeads, length, llm.headDim]);
    await cache.append(Object.fromEntries(Object.entries(actual).map(([name, output]) => [name, asDevice(output)])), length);
    done += length;
    expect(cache.length).toBe(done);
  }
}

describe('llm graph with an in-place KV cache', () => {
  it('matches the concat graph over prefill, a chunk and decode steps, with the cache regrowing (ort-node)', async () => {
    await compareSequence(WIDE_LLM, [5, 3, 1, 1, 1, 1], 'node');
  });
  it('starts with a decode step on an empty cache, then chunks between decode steps', async () => {
    await compareSequence(WIDE_LLM, [1, 3, 1, 5, 1], 'node');
  });

  it('matches on ort-web wasm', async () => {
    await compareSequence(WIDE_LLM, [6, 1, 1], 'web');
  });

  it('the first in-place layout (keys transposed, folders without kvCacheLayout) still matches', async () => {
    await compareSequence(WIDE_LLM, [5, 3, 1, 1, 1, 1], 'node', 'keys-transposed');
  });

  it('feeds the buffers whole: slots past the filled length are masked out', () => {
    const cache = new InPlaceKvCache(WIDE_LLM, 1, 8);
    cache.reserve(8);
    const feeds = cache.stepInputs(float32([1, 3, WIDE_LLM.hiddenSize], new Float32Array(3 * WIDE_LLM.hiddenSize)), 3);
    expect(feeds['past_key_values.0.key']?.dims).toEqual([1, WIDE_LLM.numKeyValueHeads, 8, WIDE_LLM.headDim]);
    expect(feeds['past_key_values.0.value']?.dims).toEqual([1, WIDE_LLM.numKeyValueHeads, WIDE_LLM.headDim, 8]);
    expect(Array.from(feeds.attention_mask.data as BigInt64Array, Number)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    expect(Array.from(feeds.position_ids.data as BigInt64Array, Number)).toEqual([0, 1, 2]);
  });

  it.each([
    ['values-transposed', 'slots-major', 'dims-major'],
    ['keys-transposed', 'dims-major', 'slots-major'],
  ] as const)('writes each slot where the %s graph reads it, also across regrowth', async (layout, keyOrder, valueOrder) => {
    const llm = { numLayers: 1, numKeyValueHeads: 2, headDim: 3 };
    const cache = new InPlaceKvCache(llm, 1, 2, layout);
    // new_key_values [1, heads, length, D]: element (h, p, d) of run r holds 1000·r + 100·h + 10·p + d (keys), negated (values).
    const run = (r: number, length: number) =>
      Object.fromEntries(
        (['key', 'value'] as const).map((kind) => {
          const data = Float32Array.from({ length: 2 * length * 3 }, (_, i) => {
            const [h, p, d] = [Math.floor(i / (length * 3)), Math.floor(i / 3) % length, i % 3];
            return (kind === 'key' ? 1 : -1) * (1000 * r + 100 * h + 10 * p + d);
          });
          return [`new_key_values.0.${kind}`, asDevice({ dims: [1, 2, length, 3], data } as Output)];
        }),
      );
    await cache.append(run(1, 2), 2);
    await cache.append(run(2, 1), 1);
    expect(cache.slots).toBe(4);
    const feeds = cache.stepInputs(float32([1, 1, 1], new Float32Array(1)), 1);
    const at = (tensor: unknown, order: string, h: number, slot: number, d: number) =>
      (tensor as HostTensor & { data: Float32Array }).data[order === 'slots-major' ? (h * 4 + slot) * 3 + d : (h * 3 + d) * 4 + slot];
    for (const [slot, r, p] of [
      [0, 1, 0],
      [1, 1, 1],
      [2, 2, 0],
    ]) {
      for (let h = 0; h < 2; h++) {
        for (let d = 0; d < 3; d++) {
          expect(at(feeds['past_key_values.0.key'], keyOrder, h, slot, d)).toBe(1000 * r + 100 * h + 10 * p + d);
          expect(at(feeds['past_key_values.0.value'], valueOrder, h, slot, d)).toBe(-(1000 * r + 100 * h + 10 * p + d));
        }
      }
    }
  });

  it('restricts rows to their own slots and positions, and rolls back to a checkpoint', async () => {
    const llm = { numLayers: 1, numKeyValueHeads: 1, headDim: 2 };
    const cache = new InPlaceKvCache(llm, 2, 4);
    const step = (length: number) =>
      Object.fromEntries(
        ['key', 'value'].map((kind) => [
          `new_key_values.0.${kind}`,
          asDevice({ dims: [2, 1, length, 2], data: new Float32Array(2 * length * 2).fill(1) } as Output),
        ]),
      );
    await cache.append(step(3), 3);
    // Row 1 is a right-padded prompt of 2 real tokens: its pad slot is masked, its positions continue at 2.
    cache.restrict([1, 1, 1, 1, 1, 0], [3, 2]);
    cache.checkpoint();
    const embeds = float32([2, 1, 2], new Float32Array(4));
    const mask = () => Array.from(cache.stepInputs(embeds, 1).attention_mask.data as BigInt64Array, Number);
    expect(mask()).toEqual([1, 1, 1, 0, 1, 1, 1, 0, 0, 1]);
    expect(Array.from(cache.stepInputs(embeds, 1).position_ids.data as BigInt64Array, Number)).toEqual([3, 2]);
    await cache.append(step(2), 2);
    expect(cache.slots).toBe(8);
    expect(mask()).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1]);
    expect(Array.from(cache.stepInputs(embeds, 1).position_ids.data as BigInt64Array, Number)).toEqual([5, 4]);
    cache.rollback();
    expect(cache.length).toBe(3);
    expect(Array.from(cache.stepInputs(embeds, 1).position_ids.data as BigInt64Array, Number)).toEqual([3, 2]);
    cache.clear();
    expect(cache.slots).toBe(0);
  });
});
