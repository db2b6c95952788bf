import { inverseFrequencies } from '../../../core/math/rotary-frequencies.js';
import type { GraphContext } from '../weights.js';

/** cos/sin of position·frequency, `[B, L, 1, D/2]`, shared by every layer and by q and k. */
export interface RotaryTables {
  readonly cos: string;
  readonly sin: string;
}

/** Re-exported: the converter's RoPE and host-side rotary tables share one rounding. */
export { inverseFrequencies };

/**
 * Angles from per-row `position_ids` `[B, L]` (int64). The product position·frequency is taken in
 * float32, as HF does, so large positions lose the same bits.
 */
export function rotaryTables(ctx: GraphContext, positionIds: string, headDim: number, theta: number): RotaryTables {
  const { builder } = ctx;
  const positions = builder.op('Unsqueeze', [builder.op('Cast', [positionIds], { to: 1 }), builder.constInt64([2, 3])]);
  const frequencies = builder.constFloat(Array.from(inverseFrequencies(headDim, theta)), [headDim / 2]);
  const angles = builder.op('Mul', [positions, frequencies]);
  return { cos: builder.op('Cos', [angles]), sin: builder.op('Sin', [angles]) };
}

/** Tables from host-computed angles `[B, L, D/2]` (float32), shared by every head. */
export function rotaryTablesFromAngles(ctx: GraphContext, angles: string): RotaryTables {
  const { builder } = ctx;
  const perHead = builder.op('Unsqueeze', [angles, builder.constInt64([2])]);
  return { cos: builder.op('Cos', [perHead]), sin: builder.op('Sin', [perHead]) };
}

/**
 * Rotate-half RoPE on `x` laid out `[B, L, heads, D]`: the first and second halves of each head
 * are the two coordinates of each rotated pair (Qwen2 / Llama convention, not interleaved).
 */
export function applyRotary(ctx: GraphContext, x: string, tables: RotaryTables, headDim: number): string {
  const { builder } = ctx;
  const [first, second] = builder.node('Split', [x, builder.constInt64([headDim / 2, headDim / 2])], {
    attributes: { axis: -1 },
    outputCount: 2,
  });
  const rotatedFirst = builder.op('Sub', [builder.op('Mul', [first, tables.cos]), builder.op('Mul', [second, tables.sin])]);
  const rotatedSecond = builder.op('Add', [builder.op('Mul', [second, tables.cos]), builder.op('Mul', [first, tables.sin])]);
  return builder.op('Concat', [rotatedFirst, rotatedSecond], { axis: -1 });
}
