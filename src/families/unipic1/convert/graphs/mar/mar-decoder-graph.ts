import { contractInput, contractOutput } from '../../../../../convert/onnx/contract-io.js';
import { UNIPIC1_GRAPHS } from '../../../graphs.js';
import { layerNorm } from '../../../../../convert/graphs/layers/layer-norm.js';
import { linear } from '../../../../../convert/graphs/layers/linear.js';
import type { GraphBuilder } from '../../../../../convert/onnx/graph-builder.js';
import type { GraphContext } from '../../../../../convert/graphs/weights.js';
import { connectorMlp } from './connector-mlp.js';
import { MAR_LAYER_NORM_EPSILON, type MarGraphConfig, type MarGraphOptions } from './mar-config.js';
import { rotateTailToHead, sliceRows } from './sequence-rows.js';
import { vitBlock } from './vit-block.js';

/**
 * The `mar_decoder` graph (docs/model-format.md): `proj_out` residual onto the encoder output,
 * `decoder_embed`, scatter of those rows into the prepared `fill` sequence, decoder blocks,
 * buffers dropped, diffusion positions added.
 */
export function buildMarDecoderGraph(ctx: GraphContext, config: MarGraphConfig, options: MarGraphOptions = {}): void {
  const { builder } = ctx;
  const { encoderWidth, decoderWidth: width, decoderDepth, decoderHeads, bufferSize } = config.mar;
  const hidden = config.llm.hiddenSize;

  const sizes = { encoder_width: encoderWidth, decoder_width: width, hidden };
  const encoded = contractInput(builder, UNIPIC1_GRAPHS.mar_decoder, 'x_enc', sizes);
  const llmOutput = contractInput(builder, UNIPIC1_GRAPHS.mar_decoder, 'llm_out', sizes);
  const scatterIndex = contractInput(builder, UNIPIC1_GRAPHS.mar_decoder, 'scatter_idx', sizes);
  const fill = contractInput(builder, UNIPIC1_GRAPHS.mar_decoder, 'fill', sizes);
  const decoderPositions = contractInput(builder, UNIPIC1_GRAPHS.mar_decoder, 'decoder_pos', sizes);
  const diffusionPositions = contractInput(builder, UNIPIC1_GRAPHS.mar_decoder, 'diffusion_pos', sizes);

  const fromLlm = connectorMlp(ctx, rotateTailToHead(builder, llmOutput, bufferSize), 'proj_out');
  const refined = builder.op('Add', [encoded, fromLlm]);
  const embedded = linear(ctx, refined, 'mar.decoder_embed.weight', 'mar.decoder_embed.bias');

  let x = builder.op('ScatterND', [fill, batchedRowIndices(builder, scatterIndex), embedded]);
  x = builder.op('Add', [x, decoderPositions]);
  for (let block = 0; block < decoderDepth; block++) {
    x = vitBlock(ctx, x, `mar.decoder_blocks.${block}`, decoderHeads, width, options.attention);
  }
  x = layerNorm(ctx, x, width, MAR_LAYER_NORM_EPSILON, 'mar.decoder_norm.weight', 'mar.decoder_norm.bias');
  const conditions = builder.op('Add', [sliceRows(builder, x, bufferSize), diffusionPositions]);
  contractOutput(builder, UNIPIC1_GRAPHS.mar_decoder, conditions, 'z', sizes);
}

/**
 * `[B, S]` slot indices → ScatterND indices `[B, S, 2]` of (batch row, slot), so each batch row
 * scatters into its own sequence with one row-sized update per index (far smaller than the
 * `[B, S, W]` index tensor ScatterElements would need).
 */
function batchedRowIndices(builder: GraphBuilder, slots: string): string {
  const shape = builder.op('Shape', [slots]);
  const batch = builder.op('Squeeze', [builder.op('Shape', [slots], { start: 0, end: 1 }), builder.constInt64([0])]);
  const zero = builder.constInt64([0], []);
  const one = builder.constInt64([1], []);
  const rows = builder.op('Unsqueeze', [builder.op('Range', [zero, batch, one]), builder.constInt64([1])]);
  const rowGrid = builder.op('Expand', [rows, shape]);
  const lastAxis = builder.constInt64([-1]);
  return builder.op('Concat', [builder.op('Unsqueeze', [rowGrid, lastAxis]), builder.op('Unsqueeze', [slots, lastAxis])], { axis: -1 });
}
