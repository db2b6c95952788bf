import { describe, expect, it } from 'vitest';
import { GraphBuilder, weightPath } from '../../../../src/convert/onnx/graph-builder.js';
import { onnx } from '../../../../src/convert/onnx/proto.js';
import { buildLlm } from './support/llm-graph-runner.js';
import { TINY_LLM, randomLlmWeights } from './support/tiny-llm.js';

function nodesOf(bytes: Uint8Array): onnx.INodeProto[] {
  return onnx.ModelProto.decode(bytes).graph?.node ?? [];
}

describe('node names by path', () => {
  it.each(['fp32', 'q4'] as const)('%s LLM graph: every node name is unique and says its layer', (dtype) => {
    const graph = buildLlm(randomLlmWeights(TINY_LLM, 3), TINY_LLM, dtype);
    const nodes = nodesOf(graph.bytes);
    const names = nodes.map((node) => node.name ?? '');
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((name) => name.startsWith('/test/'))).toBe(true);

    const product = dtype === 'fp32' ? 'MatMul' : 'MatMulNBits';
    const qProj = nodes.find((node) => node.name === `/test/llm/model/layers.0/self_attn/q_proj/${product}`);
    expect(qProj?.opType).toBe(product);
    expect(qProj?.input).toContain(dtype === 'fp32' ? 'llm.model.layers.0.self_attn.q_proj.weight' : 'llm.model.layers.0.self_attn.q_proj.weight.q4');
    expect(names).toContain('/test/llm/model/layers.0/self_attn/q_proj/Add');
    expect(names).toContain(`/test/llm/model/layers.${TINY_LLM.numLayers - 1}/mlp/down_proj/${product}`);
    expect(names).toContain('/test/llm/model/norm/SimplifiedLayerNormalization');
    // Attention ops not tied to one weight still carry their layer.
    expect(names.some((name) => name.startsWith('/test/llm/model/layers.1/Softmax'))).toBe(true);
  });

  it('repeats get a numeric suffix, explicit names stay, and a scope is restored after a throw', () => {
    const builder = new GraphBuilder('g');
    const x = builder.input('x', 'float32', [1]);
    builder.scoped('block', () => {
      builder.op('Relu', [x]);
      builder.op('Relu', [x]);
    });
    builder.node('Identity', [x], { name: 'kept' });
    expect(() =>
      builder.scoped('broken', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    builder.op('Neg', [x]);
    expect(nodesOf(builder.toBytes()).map((node) => node.name)).toEqual(['/g/block/Relu', '/g/block/Relu_1', 'kept', '/g/Neg']);
  });

  it('a weight name becomes path segments, numeric indices joined to their module', () => {
    expect(weightPath('llm.model.layers.3.self_attn.q_proj.weight')).toEqual(['llm', 'model', 'layers.3', 'self_attn', 'q_proj']);
    expect(weightPath('blocks.0.1.bias')).toEqual(['blocks.0.1']);
    expect(weightPath('pos_embed.pos_embed')).toEqual(['pos_embed', 'pos_embed']);
  });
});
