import { onnx } from '../../src/convert/onnx/proto.js';

/**
 * The same graph with every `MatMulNBits` set to another `accuracy_level`. Weights are untouched
 * (they live in external data), so a variant that differs only in this attribute costs no
 * re-quantisation: 4-bit packing of 1.3B weights takes minutes in JS.
 */
export function withAccuracyLevel(modelBytes: Uint8Array, level: number): Uint8Array {
  const model = onnx.ModelProto.decode(modelBytes);
  let patched = 0;
  // Subgraphs too (the fused sampler's head lives in a Loop body).
  const visit = (nodes: readonly onnx.INodeProto[]) => {
    for (const node of nodes) {
      for (const attribute of node.attribute ?? []) if (attribute.g?.node) visit(attribute.g.node);
      if (node.opType !== 'MatMulNBits') continue;
      const attributes = (node.attribute ?? []).filter((a) => a.name !== 'accuracy_level');
      attributes.push({ name: 'accuracy_level', type: onnx.AttributeProto.AttributeType.INT, i: level });
      node.attribute = attributes;
      patched++;
    }
  };
  visit(model.graph?.node ?? []);
  if (patched === 0) throw new Error('withAccuracyLevel: the graph has no MatMulNBits node');
  return onnx.ModelProto.encode(model).finish();
}
