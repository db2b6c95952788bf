import tinyConfig from '../../../../../src/families/unipic1/convert/tiny/tiny-config.json' with { type: 'json' };
import type { LlmConfig } from '../../../../../src/convert/graphs/llm/llm-graph.js';
import { MemoryWeights } from '../../../../../src/convert/graphs/weights.js';
import { randomArray } from '../../layers/support/graph-runner.js';

/** The tiny model's LLM dims (src/convert/tiny/tiny-config.json) as a manifest LlmConfig. */
export const TINY_LLM: LlmConfig = {
  hiddenSize: tinyConfig.llm.hidden_size,
  intermediateSize: tinyConfig.llm.intermediate_size,
  numLayers: tinyConfig.llm.num_hidden_layers,
  numHeads: tinyConfig.llm.num_attention_heads,
  numKeyValueHeads: tinyConfig.llm.num_key_value_heads,
  headDim: tinyConfig.llm.hidden_size / tinyConfig.llm.num_attention_heads,
  ropeTheta: tinyConfig.llm.rope_theta,
  rmsNormEps: tinyConfig.llm.rms_norm_eps,
  vocabSize: tinyConfig.llm.vocab_size,
  maxPositionEmbeddings: tinyConfig.llm.max_position_embeddings,
};

/** Wider than tiny, with KVH > 1 and head dim 16, to exercise grouped heads and RoPE frequencies. */
export const WIDE_LLM: LlmConfig = {
  ...TINY_LLM,
  hiddenSize: 64,
  intermediateSize: 96,
  numHeads: 4,
  numKeyValueHeads: 2,
  headDim: 16,
};

/** Random weights under the official key names; norms near 1 like trained ones. */
export function randomLlmWeights(llm: LlmConfig, seed: number, options: { vocab?: number } = {}): MemoryWeights {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  let next = seed;
  const add = (name: string, shape: number[], scale: number, offset = 0) => {
    const data = randomArray(
      shape.reduce((a, b) => a * b, 1),
      next++,
      scale,
    ).map((v) => v + offset);
    tensors[name] = { shape, data };
  };
  const { hiddenSize: H, numHeads: NH, numKeyValueHeads: KVH, headDim: D, intermediateSize: I } = llm;
  for (let i = 0; i < llm.numLayers; i++) {
    const p = `llm.model.layers.${i}`;
    add(`${p}.input_layernorm.weight`, [H], 0.2, 1);
    add(`${p}.post_attention_layernorm.weight`, [H], 0.2, 1);
    add(`${p}.self_attn.q_proj.weight`, [NH * D, H], 1 / Math.sqrt(H));
    add(`${p}.self_attn.q_proj.bias`, [NH * D], 0.5);
    add(`${p}.self_attn.k_proj.weight`, [KVH * D, H], 1 / Math.sqrt(H));
    add(`${p}.self_attn.k_proj.bias`, [KVH * D], 0.5);
    add(`${p}.self_attn.v_proj.weight`, [KVH * D, H], 1 / Math.sqrt(H));
    add(`${p}.self_attn.v_proj.bias`, [KVH * D], 0.5);
    add(`${p}.self_attn.o_proj.weight`, [H, NH * D], 1 / Math.sqrt(NH * D));
    add(`${p}.mlp.gate_proj.weight`, [I, H], 1 / Math.sqrt(H));
    add(`${p}.mlp.up_proj.weight`, [I, H], 1 / Math.sqrt(H));
    add(`${p}.mlp.down_proj.weight`, [H, I], 1 / Math.sqrt(I));
  }
  add('llm.model.norm.weight', [H], 0.2, 1);
  if (options.vocab) add('llm.model.embed_tokens.weight', [options.vocab, H], 0.5);
  return new MemoryWeights(tensors);
}
