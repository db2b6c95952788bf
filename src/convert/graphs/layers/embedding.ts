import { toFloat16Array } from '../../quantize/float16.js';
import { gatherLayout, quantizeQ4, scalesAsFloat16, Q4_BLOCK_SIZE } from '../../quantize/q4-blocks.js';
import { ONNX_FLOAT } from './linear.js';
import type { GraphContext } from '../weights.js';

export interface EmbeddingOptions {
  /** q4/q4f16: store the table as 4-bit blocks (GatherBlockQuantized); default true. */
  readonly quantize?: boolean;
  readonly symmetric?: boolean;
}

/**
 * Row lookup `table[ids]` for a `[vocab, width]` checkpoint table, float32 out for every dtype:
 * fp16 stores the table in half precision, q4/q4f16 as 4-bit blocks read by com.microsoft
 * GatherBlockQuantized (float32 or float16 scales); looked-up rows are widened inside the graph.
 */
export function embeddingLookup(ctx: GraphContext, ids: string, weightName: string, options: EmbeddingOptions = {}): string {
  return ctx.builder.scopedByWeight(weightName, () => scopedEmbeddingLookup(ctx, ids, weightName, options));
}

function scopedEmbeddingLookup(ctx: GraphContext, ids: string, weightName: string, options: EmbeddingOptions): string {
  const { builder, weights } = ctx;
  const [vocab, width] = weights.shape(weightName);
  const table = weights.float32(weightName);
  const quantize = (ctx.dtype === 'q4' || ctx.dtype === 'q4f16') && (options.quantize ?? true);
  const halfPrecision = ctx.dtype === 'fp16' || ctx.dtype === 'q4f16';
  let rows: string;
  if (quantize) {
    // ORT's WebGPU GatherBlockQuantized reads 4-bit zero points as one nibble per scale, packed
    // over the flat scale index, and insists on zp.shape[-1]·2 = scales.shape[-1]: an odd number
    // of blocks per row cannot be expressed ("scales and zero_points must have the same shape"),
    // while the CPU kernel pads each row to a whole byte. Widen such tables by one all-zero block
    // (scale 0: it dequantises to 0 and leaves the other blocks' codes untouched) and slice it off.
    const blocks = Math.ceil(width / Q4_BLOCK_SIZE);
    const stored = !options.symmetric && blocks % 2 === 1 ? (blocks + 1) * Q4_BLOCK_SIZE : width;
    const source = stored === width ? table : widenRows(table, vocab, width, stored);
    const q = quantizeQ4(source, vocab, stored, { symmetric: options.symmetric, scaleType: halfPrecision ? 'float16' : 'float32' });
    const data = builder.initializer(`${weightName}.q4`, 'uint8', [vocab, Math.ceil(stored / 2)], gatherLayout(q));
    const scaleDims = [vocab, q.blocksPerRow];
    const scales = halfPrecision
      ? builder.initializer(`${weightName}.scales`, 'float16', scaleDims, bytesOf(scalesAsFloat16(q)))
      : builder.floatInitializer(`${weightName}.scales`, scaleDims, q.scales);
    const inputs = [data, ids, scales];
    if (q.zeroPoints) {
      inputs.push(builder.initializer(`${weightName}.zero_points`, 'uint8', [vocab, Math.ceil(q.blocksPerRow / 2)], q.zeroPoints));
    }
    rows = builder.op('GatherBlockQuantized', inputs, { gather_axis: 0, quantize_axis: 1, block_size: Q4_BLOCK_SIZE, bits: 4 }, 'com.microsoft');
    if (stored !== width) rows = builder.op('Slice', [rows, builder.constInt64([0]), builder.constInt64([width]), builder.constInt64([-1])]);
  } else if (halfPrecision) {
    const half = builder.initializer(weightName, 'float16', [vocab, width], bytesOf(toFloat16Array(table)));
    rows = builder.op('Gather', [half, ids], { axis: 0 });
  } else {
    rows = builder.op('Gather', [builder.floatInitializer(weightName, [vocab, width], table), ids], { axis: 0 });
  }
  return halfPrecision ? builder.op('Cast', [rows], { to: ONNX_FLOAT }) : rows;
}

/** `[rows, from]` → `[rows, to]`, zero-filled on the right. */
function widenRows(table: Float32Array, rows: number, from: number, to: number): Float32Array {
  const out = new Float32Array(rows * to);
  for (let row = 0; row < rows; row++) out.set(table.subarray(row * from, (row + 1) * from), row * to);
  return out;
}

function bytesOf(view: Uint16Array): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}
