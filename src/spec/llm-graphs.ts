import { defineGraphs } from './graph-contract.js';

/**
 * The graphs of a Qwen2-style decoder LLM split the way the runtime drives it (docs/model-format.md):
 * `embed` (token lookup), `llm` (the decoder body with a KV cache), `lm_head` (the tied output
 * projection of the last position). Families built on a Qwen2 decoder include these in their
 * contract. Dims named `hidden`, `heads_kv`, `head_dim`, `vocab` are the config's numbers, fixed
 * by the builder; the others stay symbolic.
 */
export const LLM_GRAPHS = defineGraphs({
  embed: {
    inputs: { input_ids: { type: 'int64', shape: ['batch', 'sequence'] } },
    outputs: { inputs_embeds: { type: 'float32', shape: ['batch', 'sequence', 'hidden'] } },
  },
  llm: {
    inputs: {
      inputs_embeds: { type: 'float32', shape: ['batch', 'sequence', 'hidden'] },
      /** 1 = attend, over past and new positions. */
      attention_mask: { type: 'int64', shape: ['batch', 'total_sequence'] },
      position_ids: { type: 'int64', shape: ['batch', 'sequence'] },
      'past_key_values.{i}.key': { type: 'float32', shape: ['batch', 'heads_kv', 'past_sequence', 'head_dim'] },
      'past_key_values.{i}.value': { type: 'float32', shape: ['batch', 'heads_kv', 'past_sequence', 'head_dim'] },
    },
    outputs: {
      last_hidden_state: { type: 'float32', shape: ['batch', 'sequence', 'hidden'] },
      'present.{i}.key': { type: 'float32', shape: ['batch', 'heads_kv', 'total_sequence', 'head_dim'] },
      'present.{i}.value': { type: 'float32', shape: ['batch', 'heads_kv', 'total_sequence', 'head_dim'] },
    },
  },
  lm_head: {
    inputs: { hidden: { type: 'float32', shape: ['batch', 'hidden'] } },
    outputs: { logits: { type: 'float32', shape: ['batch', 'vocab'] } },
  },
});

/**
 * The same decoder body fed host-computed rotary angles instead of positions (`rotary: 'angles'`):
 * one graph then serves 1-D positions and Qwen2.5-VL's multimodal (t/h/w) ones. `half_head_dim` is
 * the config's head dim / 2.
 */
export const LLM_ANGLES_GRAPHS = defineGraphs({
  llm: {
    inputs: {
      inputs_embeds: LLM_GRAPHS.llm.inputs.inputs_embeds,
      attention_mask: LLM_GRAPHS.llm.inputs.attention_mask,
      rotary_angles: { type: 'float32', shape: ['batch', 'sequence', 'half_head_dim'] },
      'past_key_values.{i}.key': LLM_GRAPHS.llm.inputs['past_key_values.{i}.key'],
      'past_key_values.{i}.value': LLM_GRAPHS.llm.inputs['past_key_values.{i}.value'],
    },
    outputs: LLM_GRAPHS.llm.outputs,
  },
});
