import { contractInput, contractOutput } from '../../../../../convert/onnx/contract-io.js';
import { UNIPIC1_GRAPHS } from '../../../graphs.js';
import { linear } from '../../../../../convert/graphs/layers/linear.js';
import type { GraphContext } from '../../../../../convert/graphs/weights.js';
import type { MarGraphConfig } from './mar-config.js';

/** The `decoder_embed` graph: embeds a source image's MAR encoding as the edit-mode fill. */
export function buildDecoderEmbedGraph(ctx: GraphContext, config: MarGraphConfig): void {
  const { builder } = ctx;
  const { encoderWidth, decoderWidth } = config.mar;
  const sizes = { encoder_width: encoderWidth, decoder_width: decoderWidth };
  const source = contractInput(builder, UNIPIC1_GRAPHS.decoder_embed, 'x_con', sizes);
  const fill = linear(ctx, source, 'mar.decoder_embed.weight', 'mar.decoder_embed.bias');
  contractOutput(builder, UNIPIC1_GRAPHS.decoder_embed, fill, 'fill', sizes);
}
