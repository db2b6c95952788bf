import { describe, expect, it } from 'vitest';
import { contractInput, contractOutput } from '../../src/convert/onnx/contract-io.js';
import { GraphBuilder } from '../../src/convert/onnx/graph-builder.js';
import { llmStepInputs } from '../../src/core/llm-step-inputs.js';
import type { Graphs } from '../../src/core/model/graphs.js';
import { float32, int64 } from '../../src/core/tensor.js';
import { UNIPIC1_GRAPHS, type UniPic1Graphs } from '../../src/families/unipic1/graphs.js';
import { layerName } from '../../src/spec/graph-contract.js';

// Compile-time checks (`tsc --noEmit` type-checks this file): a feed or output the contract does
// not declare, or a missing input, is an error. The function is never called.
export function contractTypeChecks(graphs: Graphs<UniPic1Graphs>): void {
  const hidden = float32([1, 4], new Float32Array(4));
  void graphs.run('lm_head', { hidden });
  // @ts-expect-error `hiden` is not an input of lm_head
  void graphs.run('lm_head', { hiden: hidden });
  // @ts-expect-error lm_head needs `hidden`
  void graphs.run('lm_head', {});
  // @ts-expect-error no such graph in UniPic-1
  void graphs.run('transformer', { hidden });
  // @ts-expect-error `logit` is not an output of lm_head
  void graphs.run('lm_head', { hidden }, { outputs: ['logit'] });
  void graphs.run(
    'llm',
    { inputs_embeds: hidden, attention_mask: hidden, position_ids: hidden, 'past_key_values.0.key': hidden },
    { keepOnDevice: ['present.0.key'] },
  );
  void (async () => {
    const out = await graphs.run('lm_head', { hidden });
    void out.logits;
    // @ts-expect-error lm_head has no `last_hidden_state` output
    void out.last_hidden_state;
  })();
}

describe('graph contracts', () => {
  it('builders declare the ONNX inputs and outputs exactly as the contract states them', () => {
    const builder = new GraphBuilder('llm-io');
    const sizes = { hidden: 8, heads_kv: 2, head_dim: 4 };
    const spec = UNIPIC1_GRAPHS.llm;
    const embeds = contractInput(builder, spec, 'inputs_embeds', sizes);
    contractInput(builder, spec, 'past_key_values.{i}.key', sizes, 3);
    contractOutput(builder, spec, embeds, 'last_hidden_state', sizes);
    const bytes = builder.toBytes();
    expect(bytes.length).toBeGreaterThan(0);
    expect(layerName('past_key_values.{i}.key', 3)).toBe('past_key_values.3.key');
    expect(() => contractInput(builder, spec, 'past_key_values.{i}.value', sizes)).toThrow(/layer index/);
  });

  it('llmStepInputs builds mask, positions and past for padded rows after a past', () => {
    const past = { 'past_key_values.0.key': float32([2, 1, 3, 1], new Float32Array(6)) };
    const feeds = llmStepInputs({
      embeds: float32([2, 2, 1], new Float32Array(4)),
      rows: 2,
      length: 2,
      pastLength: 3,
      pastMask: [1, 1, 1, 1, 1, 0],
      firstPositions: [3, 2],
      past,
    });
    expect(feeds.attention_mask).toEqual(int64([2, 5], [1, 1, 1, 1, 1, 1, 1, 0, 1, 1]));
    expect(feeds.position_ids).toEqual(int64([2, 2], [3, 4, 2, 3]));
    expect(feeds['past_key_values.0.key']).toBe(past['past_key_values.0.key']);
    const plain = llmStepInputs({ embeds: float32([1, 1, 1], new Float32Array(1)), rows: 1, length: 1, pastLength: 2, past: {} });
    expect(plain.attention_mask).toEqual(int64([1, 3], [1, 1, 1]));
    expect(plain.position_ids).toEqual(int64([1, 1], [2]));
  });
});
