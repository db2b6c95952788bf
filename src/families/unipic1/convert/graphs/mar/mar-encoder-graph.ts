import { contractInput, contractOutput } from '../../../../../convert/onnx/contract-io.js';
import { UNIPIC1_GRAPHS } from '../../../graphs.js';
import { InvalidModelError } from '../../../../../errors/invalid-model-error.js';
import { layerNorm } from '../../../../../convert/graphs/layers/layer-norm.js';
import { linear } from '../../../../../convert/graphs/layers/linear.js';
import type { GraphContext } from '../../../../../convert/graphs/weights.js';
import { connectorMlp } from './connector-mlp.js';
import { MAR_LAYER_NORM_EPSILON, type MarGraphConfig, type MarGraphOptions } from './mar-config.js';
import { rotateHeadToTail } from './sequence-rows.js';
import { vitBlock } from './vit-block.js';

/**
 * The `mar_encoder` graph (docs/model-format.md): MAR encoder over the F buffers and K known
 * tokens, then `proj_in` with the buffers rotated to the end for the LLM.
 *
 * The official code projects and normalises all N tokens and then drops the masked ones; z_proj,
 * the position add and z_proj_ln are all per-token, so projecting only the K known tokens (with
 * their gathered position rows) gives the same rows.
 */
export function buildMarEncoderGraph(ctx: GraphContext, config: MarGraphConfig, options: MarGraphOptions = {}): void {
  const { builder, weights } = ctx;
  const { encoderWidth: width, encoderDepth, encoderHeads, bufferSize, tokenDim } = config.mar;
  const hidden = config.llm.hiddenSize;

  const sizes = { token_dim: tokenDim, encoder_width: width, hidden };
  const latents = contractInput(builder, UNIPIC1_GRAPHS.mar_encoder, 'latents', sizes);
  const positions = contractInput(builder, UNIPIC1_GRAPHS.mar_encoder, 'pos_embed', sizes);

  // z_proj is 16 → W: a q4 block would be half padding and the layer is tiny, so keep it float.
  const projected = linear(ctx, latents, 'mar.z_proj.weight', 'mar.z_proj.bias', { quantize: false });

  const fakeLatent = weights.float32('mar.fake_latent');
  if (fakeLatent.length !== width) throw new InvalidModelError(`mar.fake_latent has ${fakeLatent.length} values, expected ${width}`);
  const batch = builder.op('Shape', [latents], { start: 0, end: 1 });
  const bufferShape = builder.op('Concat', [batch, builder.constInt64([bufferSize, width])], { axis: 0 });
  const buffers = builder.op('Expand', [builder.floatInitializer('mar.fake_latent', [1, 1, width], fakeLatent), bufferShape]);

  let x = builder.op('Concat', [buffers, projected], { axis: 1 });
  x = builder.op('Add', [x, positions]);
  x = layerNorm(ctx, x, width, MAR_LAYER_NORM_EPSILON, 'mar.z_proj_ln.weight', 'mar.z_proj_ln.bias');
  for (let block = 0; block < encoderDepth; block++) {
    x = vitBlock(ctx, x, `mar.encoder_blocks.${block}`, encoderHeads, width, options.attention);
  }
  const encoded = layerNorm(ctx, x, width, MAR_LAYER_NORM_EPSILON, 'mar.encoder_norm.weight', 'mar.encoder_norm.bias');
  contractOutput(builder, UNIPIC1_GRAPHS.mar_encoder, encoded, 'x_enc', sizes);

  const llmInput = rotateHeadToTail(builder, connectorMlp(ctx, encoded, 'proj_in'), bufferSize);
  contractOutput(builder, UNIPIC1_GRAPHS.mar_encoder, llmInput, 'llm_in', sizes);
}
