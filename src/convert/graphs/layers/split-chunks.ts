import type { GraphBuilder } from '../../onnx/graph-builder.js';

/**
 * The most outputs one Split node may have. onnxruntime-web's WebGPU (JSEP) Split binds its input
 * and every output as storage buffers of one shader; with 8 or more outputs (past WebGPU's default
 * of 8 storage buffers per stage) its results are silently wrong (onnxruntime-web 1.30; see
 * docs/models.md). Other EPs have no such limit.
 */
export const MAX_SPLIT_OUTPUTS = 7;

/** `count` equal chunks of `width` along the last axis of `x`, in order (see `splitLastAxis`). */
export function chunkLastAxis(builder: GraphBuilder, x: string, count: number, width: number): string[] {
  return splitLastAxis(builder, x, new Array<number>(count).fill(width));
}

/**
 * Split the last axis of `x` into pieces of `sizes`, in order, with no Split node of more than
 * `MAX_SPLIT_OUTPUTS` outputs: more pieces are split in levels (groups of up to that many
 * consecutive pieces first, then each group), which is the same arithmetic (copies only) on every EP.
 */
export function splitLastAxis(builder: GraphBuilder, x: string, sizes: readonly number[]): string[] {
  if (sizes.length === 1) return [x];
  if (sizes.length <= MAX_SPLIT_OUTPUTS) return builder.node('Split', [x, builder.constInt64(sizes)], { attributes: { axis: -1 }, outputCount: sizes.length });
  const groups: number[][] = [];
  for (let at = 0; at < sizes.length; at += MAX_SPLIT_OUTPUTS) groups.push(sizes.slice(at, at + MAX_SPLIT_OUTPUTS));
  const parts = splitLastAxis(
    builder,
    x,
    groups.map((group) => group.reduce((a, b) => a + b, 0)),
  );
  return parts.flatMap((part, i) => splitLastAxis(builder, part, groups[i]));
}
