import { linear } from '../../../../../convert/graphs/layers/linear.js';
import type { GraphContext } from '../../../../../convert/graphs/weights.js';
import type { MarGraphConfig } from './mar-config.js';

/** The `decoder_embed` graph: embeds a source image's MAR encoding as the edit-mode fill. */
export function buildDecoderEmbedGraph(ctx: GraphContext, config: MarGraphConfig): void {
  const { builder } = ctx;
  const { encoderWidth, decoderWidth } = config.mar;
  const source = builder.input('x_con', 'float32', ['batch', 'buffer_plus_positions', encoderWidth]);
  const fill = linear(ctx, source, 'mar.decoder_embed.weight', 'mar.decoder_embed.bias');
  builder.output(fill, 'fill', 'float32', ['batch', 'buffer_plus_positions', decoderWidth]);
}
