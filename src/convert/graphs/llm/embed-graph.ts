import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { LlmConfig } from '../../../spec/llm-config.js';
import { toFloat16Array } from '../../quantize/float16.js';
import { gatherLayout, quantizeQ4, scalesAsFloat16, Q4_BLOCK_SIZE } from '../../quantize/q4-blocks.js';
import { ONNX_FLOAT } from '../layers/linear.js';
import type { GraphContext } from '../weights.js';

export const EMBED_WEIGHT = 'llm.model.embed_tokens.weight';

export interface EmbedGraphOptions {
  /**
   * For q4/q4f16: `true` (default) stores the table as 4-bit blocks read by com.microsoft
   * GatherBlockQuantized (the table is 15% of the model; 4-bit cuts it from 467 MB in half
   * precision to 131 MB); `false` keeps it float32 (q4) or float16 (q4f16).
   */
  quantize?: boolean;
  symmetric?: boolean;
}

/**
 * `embed` graph: `input_ids [B, T]` → `inputs_embeds [B, T, H]`, a row lookup in
 * `llm.model.embed_tokens.weight`. Lower precisions store the table smaller and widen the looked-up
 * rows to float32 inside the graph.
 */
export function buildEmbedGraph(ctx: GraphContext, config: { readonly llm: LlmConfig }, options: EmbedGraphOptions = {}): void {
  const { builder, weights } = ctx;
  const [vocab, hidden] = weights.shape(EMBED_WEIGHT);
  if (hidden !== config.llm.hiddenSize) throw new InvalidModelError(`embed table width ${hidden} ≠ hidden size ${config.llm.hiddenSize}`);
  const inputIds = builder.input('input_ids', 'int64', ['batch', 'sequence']);
  const table = weights.float32(EMBED_WEIGHT);
  const quantize = (ctx.dtype === 'q4' || ctx.dtype === 'q4f16') && (options.quantize ?? true);
  const halfPrecision = ctx.dtype === 'fp16' || ctx.dtype === 'q4f16';
  let rows: string;

  if (quantize) {
    // ORT's WebGPU GatherBlockQuantized reads 4-bit zero points as one nibble per scale, packed
    // over the flat scale index, and insists on zp.shape[-1]·2 = scales.shape[-1]: an odd number
    // of blocks per row cannot be expressed ("scales and zero_points must have the same shape"),
    // while the CPU kernel pads each row to a whole byte. Widen such tables by one all-zero block
    // (scale 0: it dequantises to 0 and leaves the other blocks' codes untouched) and slice it off.
    const blocks = Math.ceil(hidden / Q4_BLOCK_SIZE);
    const width = !options.symmetric && blocks % 2 === 1 ? (blocks + 1) * Q4_BLOCK_SIZE : hidden;
    const q = quantizeQ4(width === hidden ? table : widenRows(table, vocab, hidden, width), vocab, width, { symmetric: options.symmetric, scaleType: halfPrecision ? 'float16' : 'float32' });
    const data = builder.initializer(`${EMBED_WEIGHT}.q4`, 'uint8', [vocab, Math.ceil(width / 2)], gatherLayout(q));
    const scaleDims = [vocab, q.blocksPerRow];
    const scales = halfPrecision
      ? builder.initializer(`${EMBED_WEIGHT}.scales`, 'float16', scaleDims, bytesOf(scalesAsFloat16(q)))
      : builder.floatInitializer(`${EMBED_WEIGHT}.scales`, scaleDims, q.scales);
    const inputs = [data, inputIds, scales];
    if (q.zeroPoints) {
      inputs.push(builder.initializer(`${EMBED_WEIGHT}.zero_points`, 'uint8', [vocab, Math.ceil(q.blocksPerRow / 2)], q.zeroPoints));
    }
    rows = builder.op(
      'GatherBlockQuantized',
      inputs,
      { gather_axis: 0, quantize_axis: 1, block_size: Q4_BLOCK_SIZE, bits: 4 },
      'com.microsoft',
    );
    if (width !== hidden) rows = builder.op('Slice', [rows, builder.constInt64([0]), builder.constInt64([hidden]), builder.constInt64([-1])]);
  } else if (halfPrecision) {
    const half = builder.initializer(EMBED_WEIGHT, 'float16', [vocab, hidden], bytesOf(toFloat16Array(table)));
    rows = builder.op('Gather', [half, inputIds], { axis: 0 });
  } else {
    rows = builder.op('Gather', [builder.floatInitializer(EMBED_WEIGHT, [vocab, hidden], table), inputIds], { axis: 0 });
  }
  if (halfPrecision) rows = builder.op('Cast', [rows], { to: ONNX_FLOAT });
  builder.output(rows, 'inputs_embeds', 'float32', ['batch', 'sequence', hidden]);
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
