import type { GraphBuilder } from '../../onnx/graph-builder.js';

/**
 * GELU with the exact erf form, 0.5·x·(1 + erf(x/√2)), as torch's default `nn.GELU()`. Built from
 * Erf rather than opset-20 `Gelu` because some execution providers (older JSEP builds) lack it.
 */
export function geluErf(builder: GraphBuilder, x: string): string {
  const scaled = builder.op('Mul', [x, builder.constFloat([Math.SQRT1_2], [])]);
  const erf = builder.op('Erf', [scaled]);
  const onePlus = builder.op('Add', [erf, builder.constFloat([1], [])]);
  const half = builder.op('Mul', [x, builder.constFloat([0.5], [])]);
  return builder.op('Mul', [half, onePlus]);
}

/** SiLU, x·sigmoid(x). */
export function silu(builder: GraphBuilder, x: string): string {
  return builder.op('Mul', [x, builder.op('Sigmoid', [x])]);
}

/** GELU with the tanh approximation, torch `gelu(approximate='tanh')`: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function geluTanh(builder: GraphBuilder, x: string): string {
  const cube = builder.op('Mul', [builder.op('Mul', [x, x]), x]);
  const inner = builder.op('Add', [x, builder.op('Mul', [cube, builder.constFloat([0.044715], [])])]);
  const tanh = builder.op('Tanh', [builder.op('Mul', [inner, builder.constFloat([Math.sqrt(2 / Math.PI)], [])])]);
  const half = builder.op('Mul', [x, builder.constFloat([0.5], [])]);
  return builder.op('Mul', [half, builder.op('Add', [tanh, builder.constFloat([1], [])])]);
}
