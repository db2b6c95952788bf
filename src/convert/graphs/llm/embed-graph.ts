import { LLM_GRAPHS } from '../../../spec/llm-graphs.js';
import { contractInput, contractOutput } from '../../onnx/contract-io.js';
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
  const inputIds = contractInput(builder, LLM_GRAPHS.embed, 'input_ids');
  const table = weights.float32(EMBED_WEIGHT);
  const quantize = (ctx.dtype === 'q4' || ctx.dtype === 'q4f16') && (options.quantize ?? true);
  const halfPrecision = ctx.dtype === 'fp16' || ctx.dtype === 'q4f16';
  let rows: string;

  if (quantize) {
    const q = quantizeQ4(table, vocab, hidden, { symmetric: options.symmetric, scaleType: halfPrecision ? 'float16' : 'float32' });
    const data = builder.initializer(`${EMBED_WEIGHT}.q4`, 'uint8', [vocab, Math.ceil(hidden / 2)], gatherLayout(q));
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
  } else if (halfPrecision) {
    const half = builder.initializer(EMBED_WEIGHT, 'float16', [vocab, hidden], bytesOf(toFloat16Array(table)));
    rows = builder.op('Gather', [half, inputIds], { axis: 0 });
  } else {
    rows = builder.op('Gather', [builder.floatInitializer(EMBED_WEIGHT, [vocab, hidden], table), inputIds], { axis: 0 });
  }
  if (halfPrecision) rows = builder.op('Cast', [rows], { to: ONNX_FLOAT });
  contractOutput(builder, LLM_GRAPHS.embed, rows, 'inputs_embeds', { hidden });
}

function bytesOf(view: Uint16Array): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}
