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
  const { builder, weights } = ctx;
  const [vocab, width] = weights.shape(weightName);
  const table = weights.float32(weightName);
  const quantize = (ctx.dtype === 'q4' || ctx.dtype === 'q4f16') && (options.quantize ?? true);
  const halfPrecision = ctx.dtype === 'fp16' || ctx.dtype === 'q4f16';
  let rows: string;
  if (quantize) {
    const q = quantizeQ4(table, vocab, width, { symmetric: options.symmetric, scaleType: halfPrecision ? 'float16' : 'float32' });
    const data = builder.initializer(`${weightName}.q4`, 'uint8', [vocab, Math.ceil(width / 2)], gatherLayout(q));
    const scaleDims = [vocab, q.blocksPerRow];
    const scales = halfPrecision
      ? builder.initializer(`${weightName}.scales`, 'float16', scaleDims, bytesOf(scalesAsFloat16(q)))
      : builder.floatInitializer(`${weightName}.scales`, scaleDims, q.scales);
    const inputs = [data, ids, scales];
    if (q.zeroPoints) {
      inputs.push(builder.initializer(`${weightName}.zero_points`, 'uint8', [vocab, Math.ceil(q.blocksPerRow / 2)], q.zeroPoints));
    }
    rows = builder.op('GatherBlockQuantized', inputs, { gather_axis: 0, quantize_axis: 1, block_size: Q4_BLOCK_SIZE, bits: 4 }, 'com.microsoft');
  } else if (halfPrecision) {
    const half = builder.initializer(weightName, 'float16', [vocab, width], bytesOf(toFloat16Array(table)));
    rows = builder.op('Gather', [half, ids], { axis: 0 });
  } else {
    rows = builder.op('Gather', [builder.floatInitializer(weightName, [vocab, width], table), ids], { axis: 0 });
  }
  return halfPrecision ? builder.op('Cast', [rows], { to: ONNX_FLOAT }) : rows;
}

function bytesOf(view: Uint16Array): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}
