import type { Dtype } from '../../../../src/spec/manifest.js';
import { describe, expect, it } from 'vitest';
import { MemoryWeights } from '../../../../src/convert/graphs/weights.js';
import { quantizeQ4 } from '../../../../src/convert/quantize/q4-blocks.js';
import { dequantizeQ4 } from '../../quantize/support/q4-reference.js';
import { maxNormalizedError, maxRelativeError, randomArray } from '../layers/support/graph-runner.js';
import { buildLlm, runLlm, type LlmCall } from './support/llm-graph-runner.js';
import { qwen2Reference } from './support/qwen2-reference.js';
import { WIDE_LLM, randomLlmWeights } from './support/tiny-llm.js';

const llm = WIDE_LLM;
const weights = randomLlmWeights(llm, 300);
const P = 4;
const L = 6;
const pastSize = 2 * llm.numKeyValueHeads * P * llm.headDim;
const call: LlmCall = {
  batch: 2,
  length: L,
  inputsEmbeds: randomArray(2 * L * llm.hiddenSize, 301),
  attentionMask: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* row 1 */ 1, 1, 0, 0, 1, 1, 1, 1, 1, 1],
  positionIds: [4, 5, 6, 7, 8, 9, /* row 1 */ 2, 3, 4, 5, 6, 7],
  pastLength: P,
  past: Array.from({ length: llm.numLayers }, (_, i) => ({ key: randomArray(pastSize, 310 + i, 2), value: randomArray(pastSize, 320 + i, 2) })),
};
const expected = qwen2Reference(weights, llm, call);

/**
 * Lower precisions against the float64 oracle, normalized error (max |Δ| / max |expected|) of the
 * hidden state after 2 layers on the wide test config. Measured on ort-node CPU:
 * fp16 1.8e-4, q4 4.5e-2, q4f16 4.3e-2 (4-bit weights dominate), q8 7.0e-3 (int8 weights per
 * channel, activations quantized per tensor at run time). Bounds are ~3–5× that.
 */
const BOUNDS: Record<Exclude<Dtype, 'fp32'>, number> = { fp16: 1e-3, q4: 0.15, q4f16: 0.15, q8: 0.03 };

describe('llm graph at lower precision', () => {
  for (const dtype of ['fp16', 'q4', 'q4f16', 'q8'] as const) {
    it(`${dtype} stays within its measured bound of the float64 oracle`, async () => {
      const out = await runLlm(buildLlm(weights, llm, dtype), llm, call);
      const error = maxNormalizedError(out.last_hidden_state.data, expected.lastHiddenState);
      console.info(`llm ${dtype}: normalized hidden error ${error.toExponential(2)}`);
      expect(error).toBeLessThan(BOUNDS[dtype]);
      const keyError = maxNormalizedError(out['present.1.key'].data, expected.present[1].key);
      expect(keyError).toBeLessThan(BOUNDS[dtype]);
    });
  }

  it('fp16 and q4f16 graphs also run in ort-web wasm within the same bounds', async () => {
    for (const dtype of ['fp16', 'q4f16'] as const) {
      const out = await runLlm(buildLlm(weights, llm, dtype), llm, call, 'web');
      expect(maxNormalizedError(out.last_hidden_state.data, expected.lastHiddenState)).toBeLessThan(BOUNDS[dtype]);
    }
  });

  it('q4 equals the float64 oracle run on the dequantised projection weights', async () => {
    // Every 2-D projection replaced by its exact 4-bit dequantisation; norms stay float.
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const name of weightNames(llm.numLayers)) {
      const shape = [...weights.shape(name)];
      const data = weights.float32(name);
      tensors[name] = { shape, data: shape.length === 2 ? Float32Array.from(dequantizeQ4(quantizeQ4(data, shape[0], shape[1]))) : data };
    }
    const dequantized = new MemoryWeights(tensors);
    const out = await runLlm(buildLlm(weights, llm, 'q4'), llm, call);
    const oracle = qwen2Reference(dequantized, llm, call);
    // Same 1e-4 relative bound as fp32: the graph's only error left is float32 arithmetic.
    expect(maxRelativeError(out.last_hidden_state.data, oracle.lastHiddenState)).toBeLessThan(1e-4);
  });
});

function weightNames(layers: number): string[] {
  const names = ['llm.model.norm.weight'];
  for (let i = 0; i < layers; i++) {
    const p = `llm.model.layers.${i}`;
    names.push(
      `${p}.input_layernorm.weight`,
      `${p}.post_attention_layernorm.weight`,
      `${p}.mlp.gate_proj.weight`,
      `${p}.mlp.up_proj.weight`,
      `${p}.mlp.down_proj.weight`,
      `${p}.self_attn.o_proj.weight`,
    );
    for (const proj of ['q', 'k', 'v']) names.push(`${p}.self_attn.${proj}_proj.weight`, `${p}.self_attn.${proj}_proj.bias`);
  }
  return names;
}
