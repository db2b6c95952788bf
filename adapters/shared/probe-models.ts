import type { TensorDataType } from '../../src/spec/backend.js';
import { ProtobufWriter } from './protobuf-writer.js';

/**
 * Tiny ONNX models the adapters build in memory: one to prove an execution provider can create and
 * run a session, one to learn whether it runs float16 kernels, and an Identity used to copy a
 * device tensor back to the host. Field numbers are those of onnx.proto (IR 10, opset 21).
 */

const ONNX_ELEMENT_TYPE: Record<TensorDataType, number> = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
};
const ATTRIBUTE_TYPE_INT = 2;

/** `c = a + b` over float32 `[2]`. Inputs `a`, `b`; output `c`. */
export function addProbeModel(): Uint8Array {
  return model('unipic_probe_add', {
    inputs: [tensorValue('a', 'float32', [2]), tensorValue('b', 'float32', [2])],
    outputs: [tensorValue('c', 'float32', [2])],
    nodes: [node('Add', ['a', 'b'], ['c'])],
  });
}

/**
 * `y = float32(float16(x) + float16(x))` over `[2]`. On WebGPU this fails at run time when the
 * adapter lacks `shader-f16`, which is exactly the question the probe asks.
 */
export function float16ProbeModel(): Uint8Array {
  return model('unipic_probe_float16', {
    inputs: [tensorValue('x', 'float32', [2])],
    outputs: [tensorValue('y', 'float32', [2])],
    nodes: [
      node('Cast', ['x'], ['x_half'], { to: ONNX_ELEMENT_TYPE.float16 }),
      node('Add', ['x_half', 'x_half'], ['sum_half']),
      node('Cast', ['sum_half'], ['y'], { to: ONNX_ELEMENT_TYPE.float32 }),
    ],
  });
}

/** `y = x` for any shape of one element type (no shape in the value info means any rank). */
export function identityModel(type: TensorDataType): Uint8Array {
  return model(`unipic_identity_${type}`, {
    inputs: [tensorValue('x', type)],
    outputs: [tensorValue('y', type)],
    nodes: [node('Identity', ['x'], ['y'])],
  });
}

interface GraphParts {
  readonly inputs: readonly ProtobufWriter[];
  readonly outputs: readonly ProtobufWriter[];
  readonly nodes: readonly ProtobufWriter[];
}

function model(name: string, parts: GraphParts): Uint8Array {
  const graph = new ProtobufWriter();
  for (const each of parts.nodes) graph.message(1, each);
  graph.string(2, name);
  for (const each of parts.inputs) graph.message(11, each);
  for (const each of parts.outputs) graph.message(12, each);
  return new ProtobufWriter().varint(1, 10).string(2, 'unipic-adapter').message(7, graph).message(8, new ProtobufWriter().string(1, '').varint(2, 21)).finish();
}

function node(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: Record<string, number> = {}): ProtobufWriter {
  const writer = new ProtobufWriter();
  for (const input of inputs) writer.string(1, input);
  for (const output of outputs) writer.string(2, output);
  writer.string(3, `${opType}_${outputs[0]}`).string(4, opType);
  for (const [attributeName, value] of Object.entries(attributes)) {
    writer.message(5, new ProtobufWriter().string(1, attributeName).varint(3, value).varint(20, ATTRIBUTE_TYPE_INT));
  }
  return writer;
}

function tensorValue(name: string, type: TensorDataType, shape?: readonly number[]): ProtobufWriter {
  const tensorType = new ProtobufWriter().varint(1, ONNX_ELEMENT_TYPE[type]);
  if (shape) {
    const shapeWriter = new ProtobufWriter();
    for (const size of shape) shapeWriter.message(1, new ProtobufWriter().varint(1, size));
    tensorType.message(2, shapeWriter);
  }
  return new ProtobufWriter().string(1, name).message(2, new ProtobufWriter().message(1, tensorType));
}
