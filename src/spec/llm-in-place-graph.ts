import { defineGraphs } from './graph-contract.js';

/**
 * The `llm` decoder body built for an in-place KV cache (`buildLlmGraph(…, { kvCache: 'in-place' })`):
 * the host keeps one pre-allocated buffer per layer and feeds it whole every run; the graph reads
 * it once and returns only the new positions' keys and values, which the host writes into the free
 * slots (src/core/in-place-kv-cache.ts). Nothing proportional to the context is copied per step.
 *
 * Keys are stored transposed (`[…, head_dim, capacity]`) so the score product reads them as they
 * lie, with standard MatMul on every execution provider. `attention_mask` covers the `capacity`
 * slots (1 = a filled slot to attend) followed by the new positions.
 */
export const LLM_IN_PLACE_GRAPHS = defineGraphs({
  llm: {
    inputs: {
      inputs_embeds: { type: 'float32', shape: ['batch', 'sequence', 'hidden'] },
      attention_mask: { type: 'int64', shape: ['batch', 'capacity_plus_sequence'] },
      position_ids: { type: 'int64', shape: ['batch', 'sequence'] },
      'past_key_values.{i}.key': { type: 'float32', shape: ['batch', 'heads_kv', 'head_dim', 'capacity'] },
      'past_key_values.{i}.value': { type: 'float32', shape: ['batch', 'heads_kv', 'capacity', 'head_dim'] },
    },
    outputs: {
      last_hidden_state: { type: 'float32', shape: ['batch', 'sequence', 'hidden'] },
      'new_key_values.{i}.key': { type: 'float32', shape: ['batch', 'heads_kv', 'sequence', 'head_dim'] },
      'new_key_values.{i}.value': { type: 'float32', shape: ['batch', 'heads_kv', 'sequence', 'head_dim'] },
    },
  },
});
