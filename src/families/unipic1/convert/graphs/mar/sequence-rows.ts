import type { GraphBuilder } from '../../../../../convert/onnx/graph-builder.js';

const END = Number.MAX_SAFE_INTEGER;

/** Rows `[start, end)` of axis 1 of a `[B, S, C]` tensor; negative bounds count from the end. */
export function sliceRows(builder: GraphBuilder, x: string, start: number, end = END): string {
  return builder.op('Slice', [x, builder.constInt64([start]), builder.constInt64([end]), builder.constInt64([1])]);
}

/** Move the first `count` rows of axis 1 to the end: `[buffers, image] → [image, buffers]`. */
export function rotateHeadToTail(builder: GraphBuilder, x: string, count: number): string {
  return builder.op('Concat', [sliceRows(builder, x, count), sliceRows(builder, x, 0, count)], { axis: 1 });
}

/** Move the last `count` rows of axis 1 to the front: `[image, buffers] → [buffers, image]`. */
export function rotateTailToHead(builder: GraphBuilder, x: string, count: number): string {
  return builder.op('Concat', [sliceRows(builder, x, -count), sliceRows(builder, x, 0, -count)], { axis: 1 });
}
