import { defineGraphs } from './graph-contract.js';

const SHARED = {
  inputs: {
    inputs_embeds: { type: 'float32', shape: ['batch', 'sequence', 'hidden'] },
    attention_mask: { type: 'int64', shape: ['batch', 'capacity_plus_sequence'] },
    position_ids: { type: 'int64', shape: ['batch', 'sequence'] },
  },
  outputs: {
    last_hidden_state: { type: 'float32', shape: ['batch', 'sequence', 'hidden'] },
    'new_key_values.{i}.key': { type: 'float32', shape: ['batch', 'heads_kv', 'sequence', 'head_dim'] },
    'new_key_values.{i}.value': { type: 'float32', shape: ['batch', 'heads_kv', 'sequence', 'head_dim'] },
  },
} as const;

/**
 * The `llm` decoder body built for an in-place KV cache (`buildLlmGraph(…, { kvCache: 'in-place' })`):
 * the host keeps one pre-allocated buffer per layer and feeds it whole every run; the graph reads
 * it once and returns only the new positions' keys and values, which the host writes into the free
 * slots (src/core/in-place-kv-cache.ts). Nothing proportional to the context is copied per step.
 * `attention_mask` covers the `capacity` slots (1 = a filled slot to attend) followed by the new
 * positions.
 *
 * Layout `values-transposed` (the manifest's `kvCacheLayout`): keys `[…, capacity, head_dim]`,
 * values `[…, head_dim, capacity]`, so that in a decode step both attention products take the
 * cache as their left-hand matrix, which the CPU's SGEMM reads as it lies (docs/model-format.md).
 */
export const LLM_IN_PLACE_GRAPHS = defineGraphs({
  llm: {
    inputs: {
      ...SHARED.inputs,
      'past_key_values.{i}.key': { type: 'float32', shape: ['batch', 'heads_kv', 'capacity', 'head_dim'] },
      'past_key_values.{i}.value': { type: 'float32', shape: ['batch', 'heads_kv', 'head_dim', 'capacity'] },
    },
    outputs: SHARED.outputs,
  },
});

/**
 * The first in-place layout, `keys-transposed` (folders converted before `kvCacheLayout` existed):
 * keys `[…, head_dim, capacity]`, values `[…, capacity, head_dim]`. Still loaded and run; the
 * converter writes it only when asked (`inPlaceLayout`), for that compatibility and the benchmark.
 */
export const LLM_IN_PLACE_KEYS_TRANSPOSED_GRAPHS = defineGraphs({
  llm: {
    inputs: {
      ...SHARED.inputs,
      'past_key_values.{i}.key': { type: 'float32', shape: ['batch', 'heads_kv', 'head_dim', 'capacity'] },
      'past_key_values.{i}.value': { type: 'float32', shape: ['batch', 'heads_kv', 'capacity', 'head_dim'] },
    },
    outputs: SHARED.outputs,
  },
});
