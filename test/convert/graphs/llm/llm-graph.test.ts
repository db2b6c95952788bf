import type { Dtype } from '../../../../src/spec/manifest.js';
import { describe, expect, it } from 'vitest';
import type { LlmConfig } from '../../../../src/convert/graphs/llm/llm-graph.js';
import { maxRelativeError, randomArray, type Runtime } from '../layers/support/graph-runner.js';
import { buildLlm, emptyPast, runLlm, sliceCache, type LlmCall } from './support/llm-graph-runner.js';
import { qwen2Reference } from './support/qwen2-reference.js';
import { TINY_LLM, WIDE_LLM, randomLlmWeights } from './support/tiny-llm.js';

// fp32 graphs against the float64 oracle: 1e-4 relative (per element, floor 1e-2).
const FP32_TOLERANCE = 1e-4;

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  const error = maxRelativeError(actual, expected);
  expect(error, `${what}: max relative error ${error}`).toBeLessThan(tolerance);
}

async function compare(
  llm: LlmConfig,
  call: LlmCall,
  options: { runtime?: Runtime; dtype?: Dtype; tolerance?: number; decomposedNorm?: boolean; seed?: number } = {},
) {
  const weights = randomLlmWeights(llm, options.seed ?? 100);
  const graph = buildLlm(weights, llm, options.dtype ?? 'fp32', { decomposedNorm: options.decomposedNorm });
  const out = await runLlm(graph, llm, call, options.runtime);
  const expected = qwen2Reference(weights, llm, call);
  const tolerance = options.tolerance ?? FP32_TOLERANCE;
  expect(out.last_hidden_state.dims).toEqual([call.batch, call.length, llm.hiddenSize]);
  expectClose(out.last_hidden_state.data, expected.lastHiddenState, tolerance, 'last_hidden_state');
  for (let i = 0; i < llm.numLayers; i++) {
    expect(out[`present.${i}.key`].dims).toEqual([call.batch, llm.numKeyValueHeads, call.pastLength + call.length, llm.headDim]);
    expectClose(out[`present.${i}.key`].data, expected.present[i].key, tolerance, `present.${i}.key`);
    expectClose(out[`present.${i}.value`].data, expected.present[i].value, tolerance, `present.${i}.value`);
  }
  return { out, expected, weights, graph };
}

/** Two rows, right-padded prefixes of 7 and 4 real tokens in a length-7 prefill. */
function paddedPrefill(llm: LlmConfig, seed = 1): LlmCall {
  const B = 2;
  const L = 7;
  return {
    batch: B,
    length: L,
    inputsEmbeds: randomArray(B * L * llm.hiddenSize, seed),
    attentionMask: [1, 1, 1, 1, 1, 1, 1, /* row 1 */ 1, 1, 1, 1, 0, 0, 0],
    positionIds: [0, 1, 2, 3, 4, 5, 6, /* row 1 */ 0, 1, 2, 3, 4, 5, 6],
    pastLength: 0,
    past: emptyPast(llm),
  };
}

/**
 * A MAR iteration: past = a padded prefix (row 0: 6 real of 6, row 1: 3 real then 3 holes), then
 * L new tokens that see the real prefix and each other causally, positions continuing from each
 * row's own valid length.
 */
function marIteration(llm: LlmConfig, seed = 2): LlmCall {
  const B = 2;
  const P = 6;
  const L = 5;
  const pastSize = B * llm.numKeyValueHeads * P * llm.headDim;
  return {
    batch: B,
    length: L,
    inputsEmbeds: randomArray(B * L * llm.hiddenSize, seed),
    attentionMask: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* row 1 */ 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1],
    positionIds: [6, 7, 8, 9, 10, /* row 1 */ 3, 4, 5, 6, 7],
    pastLength: P,
    past: Array.from({ length: llm.numLayers }, (_, i) => ({
      key: randomArray(pastSize, seed * 10 + 2 * i, 2),
      value: randomArray(pastSize, seed * 10 + 2 * i + 1, 2),
    })),
  };
}

describe('llm graph (fp32, ort-node CPU) against the float64 Qwen2 oracle', () => {
  for (const [name, llm] of [
    ['tiny', TINY_LLM],
    ['wide (KVH 2, D 16)', WIDE_LLM],
  ] as const) {
    it(`${name}: prefill with a right-padded row (P = 0, empty past)`, async () => {
      await compare(llm, paddedPrefill(llm));
    });

    it(`${name}: MAR iteration over a padded prefix past with per-row positions`, async () => {
      await compare(llm, marIteration(llm));
    });
  }

  it('large positions (≈4000) keep RoPE within tolerance', async () => {
    const call = paddedPrefill(WIDE_LLM, 5);
    call.positionIds = Array.from(call.positionIds, (p) => Number(p) + 4090);
    // float32 angle = position·frequency loses ~2.4e-4 rad at 4096: HF has the same loss, the
    // float64 oracle does not, so this comparison gets 1e-3.
    await compare(WIDE_LLM, call, { tolerance: 1e-3 });
  });

  it('decomposed RMSNorm gives the same result', async () => {
    await compare(WIDE_LLM, marIteration(WIDE_LLM), { decomposedNorm: true });
  });

  it('prefill of T tokens equals prefill of T−1 then one decode step with the grown cache', async () => {
    const llm = WIDE_LLM;
    const weights = randomLlmWeights(llm, 7);
    const graph = buildLlm(weights, llm);
    const T = 6;
    const H = llm.hiddenSize;
    const embeds = randomArray(T * H, 8);
    const full = await runLlm(graph, llm, {
      batch: 1,
      length: T,
      inputsEmbeds: embeds,
      attentionMask: new Array(T).fill(1),
      positionIds: [0, 1, 2, 3, 4, 5],
      pastLength: 0,
      past: emptyPast(llm),
    });
    const first = await runLlm(graph, llm, {
      batch: 1,
      length: T - 1,
      inputsEmbeds: embeds.subarray(0, (T - 1) * H),
      attentionMask: new Array(T - 1).fill(1),
      positionIds: [0, 1, 2, 3, 4],
      pastLength: 0,
      past: emptyPast(llm),
    });
    const step = await runLlm(graph, llm, {
      batch: 1,
      length: 1,
      inputsEmbeds: embeds.subarray((T - 1) * H),
      attentionMask: new Array(T).fill(1),
      positionIds: [5],
      pastLength: T - 1,
      past: Array.from({ length: llm.numLayers }, (_, i) => ({ key: first[`present.${i}.key`].data, value: first[`present.${i}.value`].data })),
    });
    // Same float32 ops in a different grouping: agreement far inside 1e-5.
    expectClose(step.last_hidden_state.data, full.last_hidden_state.data.subarray((T - 1) * H), 1e-5, 'decoded hidden');
    expectClose(first.last_hidden_state.data, full.last_hidden_state.data.subarray(0, (T - 1) * H), 1e-5, 'prefix hidden');
    for (let i = 0; i < llm.numLayers; i++) {
      expectClose(step[`present.${i}.key`].data, full[`present.${i}.key`].data, 1e-5, `present.${i}.key`);
      expectClose(step[`present.${i}.value`].data, full[`present.${i}.value`].data, 1e-5, `present.${i}.value`);
    }
  });

  it('the MAR block sees the prefix through its own past: prefix+block prefill equals past reuse', async () => {
    // Row-wise: prefill [prefix; block] at once versus prefill prefix, then the block over its
    // presents (the way the core runs every MAR iteration). Row 1 has holes at the prefix end.
    const llm = TINY_LLM;
    const weights = randomLlmWeights(llm, 9);
    const graph = buildLlm(weights, llm);
    const H = llm.hiddenSize;
    const P = 5;
    const L = 3;
    const prefix = randomArray(2 * P * H, 10);
    const block = randomArray(2 * L * H, 11);
    const prefixMask = [1, 1, 1, 1, 1, /* row 1 */ 1, 1, 0, 0, 0];
    const first = await runLlm(graph, llm, {
      batch: 2,
      length: P,
      inputsEmbeds: prefix,
      attentionMask: prefixMask,
      positionIds: [0, 1, 2, 3, 4, 0, 1, 2, 3, 4],
      pastLength: 0,
      past: emptyPast(llm),
    });
    const blockPositions = [5, 6, 7, /* row 1 */ 2, 3, 4];
    const blockMask = [...prefixMask.slice(0, P), 1, 1, 1, ...prefixMask.slice(P), 1, 1, 1];
    const reuse = await runLlm(graph, llm, {
      batch: 2,
      length: L,
      inputsEmbeds: block,
      attentionMask: blockMask,
      positionIds: blockPositions,
      pastLength: P,
      past: Array.from({ length: llm.numLayers }, (_, i) => ({ key: first[`present.${i}.key`].data, value: first[`present.${i}.value`].data })),
    });
    const joined = new Float32Array(2 * (P + L) * H);
    for (let b = 0; b < 2; b++) {
      joined.set(prefix.subarray(b * P * H, (b + 1) * P * H), b * (P + L) * H);
      joined.set(block.subarray(b * L * H, (b + 1) * L * H), (b * (P + L) + P) * H);
    }
    const whole = await runLlm(graph, llm, {
      batch: 2,
      length: P + L,
      inputsEmbeds: joined,
      attentionMask: blockMask,
      positionIds: [0, 1, 2, 3, 4, 5, 6, 7, /* row 1 */ 0, 1, 2, 3, 4, 2, 3, 4],
      pastLength: 0,
      past: emptyPast(llm),
    });
    for (let b = 0; b < 2; b++) {
      expectClose(
        reuse.last_hidden_state.data.subarray(b * L * H, (b + 1) * L * H),
        whole.last_hidden_state.data.subarray((b * (P + L) + P) * H, (b + 1) * (P + L) * H),
        1e-5,
        `row ${b} block hidden`,
      );
    }
    // and the kept part of the cache is the prefix cache unchanged
    const total = P + L;
    expectClose(sliceCache(reuse['present.0.key'].data, llm, 2, total, 0, P), first['present.0.key'].data, 1e-7, 'prefix kept');
  });
});

describe('llm graph in ort-web wasm', () => {
  it('MAR iteration matches the float64 oracle', async () => {
    await compare(WIDE_LLM, marIteration(WIDE_LLM), { runtime: 'web' });
  });
});
