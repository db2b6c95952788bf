import type { GraphBuilder } from '../../onnx/graph-builder.js';

/** `[B, S, heads·headDim]` → `[B, heads, S, headDim]` (batch and sequence stay symbolic). */
export function splitHeads(builder: GraphBuilder, x: string, heads: number, headDim: number): string {
  const reshaped = builder.op('Reshape', [x, builder.constInt64([0, 0, heads, headDim])]);
  return builder.op('Transpose', [reshaped], { perm: [0, 2, 1, 3] });
}

/** `[B, heads, S, headDim]` → `[B, S, heads·headDim]`. */
export function mergeHeads(builder: GraphBuilder, x: string, heads: number, headDim: number): string {
  const transposed = builder.op('Transpose', [x], { perm: [0, 2, 1, 3] });
  return builder.op('Reshape', [transposed, builder.constInt64([0, 0, heads * headDim])]);
}

export interface AttendOptions {
  /** Multiplies the scores (default headDim^−½; T5 uses 1). Applied to q before the product. */
  readonly scale?: number;
  /** Added to the scores before softmax, broadcast to `[B, heads, Sq, Sk]` (masks, position bias). */
  readonly bias?: string;
}

/**
 * softmax(q·kᵀ·scale + bias)·v on heads-first tensors `[B, heads, S, headDim]`, with explicit
 * float32 score tensors (every graph dtype keeps attention arithmetic in float32).
 */
export function attendHeads(builder: GraphBuilder, query: string, key: string, value: string, headDim: number, options: AttendOptions = {}): string {
  const scale = options.scale ?? headDim ** -0.5;
  const scaled = scale === 1 ? query : builder.op('Mul', [query, builder.constFloat([scale], [])]);
  let scores = builder.op('MatMul', [scaled, builder.op('Transpose', [key], { perm: [0, 1, 3, 2] })]);
  if (options.bias) scores = builder.op('Add', [scores, options.bias]);
  return builder.op('MatMul', [builder.op('Softmax', [scores], { axis: -1 }), value]);
}
