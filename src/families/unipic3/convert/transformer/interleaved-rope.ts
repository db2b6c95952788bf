import type { GraphContext } from '../../../../convert/graphs/weights.js';

/**
 * Qwen-Image rotary embedding on `x [B, S, H, D]` with host tables `cos, sin [S, D/2]`: adjacent
 * pairs (x[2j], x[2j+1]) are complex numbers multiplied by e^{iθ} (`use_real=False`), i.e.
 * (a·c − b·s, a·s + b·c). Standard ops only, so every EP runs it.
 */
export function applyInterleavedRope(ctx: GraphContext, x: string, cos: string, sin: string, heads: number, headDim: number): string {
  const { builder } = ctx;
  const pairs = builder.op('Reshape', [x, builder.constInt64([0, 0, heads, headDim / 2, 2])]);
  const [real, imaginary] = builder.node('Split', [pairs, builder.constInt64([1, 1])], { outputCount: 2, attributes: { axis: 4 } });
  // [S, D/2] → [1, S, 1, D/2, 1]
  const expand = (table: string): string => builder.op('Unsqueeze', [table, builder.constInt64([0, 2, 4])]);
  const c = expand(cos);
  const s = expand(sin);
  const outReal = builder.op('Sub', [builder.op('Mul', [real, c]), builder.op('Mul', [imaginary, s])]);
  const outImaginary = builder.op('Add', [builder.op('Mul', [real, s]), builder.op('Mul', [imaginary, c])]);
  const joined = builder.op('Concat', [outReal, outImaginary], { axis: 4 });
  return builder.op('Reshape', [joined, builder.constInt64([0, 0, heads, headDim])]);
}
