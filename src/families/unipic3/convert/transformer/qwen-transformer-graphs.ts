import { InvalidModelError } from '../../../../errors/invalid-model-error.js';
import { silu } from '../../../../convert/graphs/layers/activations.js';
import { layerNorm } from '../../../../convert/graphs/layers/layer-norm.js';
import { linear } from '../../../../convert/graphs/layers/linear.js';
import { rmsNorm } from '../../../../convert/graphs/layers/rms-norm.js';
import { timestepFrequencies, TIMESTEP_FEATURES } from '../../../../convert/graphs/diffusion/timestep-embedding.js';
import type { GraphContext } from '../../../../convert/graphs/weights.js';
import { modulationParameters, qwenTransformerBlock, type JointAttention } from './qwen-transformer-block.js';
import type { QwenTransformerConfig } from './qwen-transformer-config.js';

/**
 * The Qwen-Image transformer split into graphs (diffusers `QwenImageTransformer2DModel`): `transformer_in` (input
 * projections and the timestep embedding), `transformer_blocks_<first>_<last>` (consecutive
 * blocks, so each file and session stays manageable at 20 B parameters), `transformer_out`.
 * Boundaries are float32; RoPE tables come from the host (rope-tables.ts).
 */

/**
 * `transformer_in`: packed latents `[1, N, in]` → `image [1, N, D]`; prompt states `[1, L, J]`
 * → RMSNorm → `text [1, L, D]`; `timestep [1]` (σ in [0, 1]) → sinusoid of σ·1000 (cos first) →
 * `temb [1, D]`.
 */
export function buildQwenTransformerInputGraph(ctx: GraphContext, config: QwenTransformerConfig): void {
  const { builder } = ctx;
  const width = config.heads * config.headDim;
  const latents = builder.input('latents', 'float32', [1, 'image_tokens', config.inChannels]);
  const prompt = builder.input('prompt_embeds', 'float32', [1, 'text_tokens', config.jointAttentionDim]);
  const timestep = builder.input('timestep', 'float32', [1]);
  builder.output(linear(ctx, latents, 'img_in.weight', 'img_in.bias'), 'image', 'float32', [1, 'image_tokens', width]);
  const normed = rmsNorm(ctx, prompt, 'txt_norm.weight', 1e-6);
  builder.output(linear(ctx, normed, 'txt_in.weight', 'txt_in.bias'), 'text', 'float32', [1, 'text_tokens', width]);
  // diffusers: (t · f) in float32, then × scale 1000, then [sin, cos] flipped to [cos, sin].
  const frequencies = builder.constFloat(Array.from(timestepFrequencies()), [TIMESTEP_FEATURES / 2]);
  const angles = builder.op('Mul', [builder.op('Mul', [builder.op('Unsqueeze', [timestep, builder.constInt64([1])]), frequencies]), builder.constFloat([1000], [])]);
  const projection = builder.op('Concat', [builder.op('Cos', [angles]), builder.op('Sin', [angles])], { axis: -1 });
  const hidden = silu(builder, linear(ctx, projection, 'time_text_embed.timestep_embedder.linear_1.weight', 'time_text_embed.timestep_embedder.linear_1.bias'));
  const temb = linear(ctx, hidden, 'time_text_embed.timestep_embedder.linear_2.weight', 'time_text_embed.timestep_embedder.linear_2.bias');
  builder.output(temb, 'temb', 'float32', [1, width]);
}

/**
 * Where the blocks' modulation (`img_mod`/`txt_mod`, one third of the weights) runs: `internal`
 * computes it from `temb` inside each blocks graph; `external` takes `modulation.<i>.img/txt
 * [1, 6D]` inputs, produced by `transformer_modulation` (which depends on the timestep alone, so
 * it can run once per step, or once per schedule, and be released).
 */
export type ModulationPlacement = 'internal' | 'external';

/** `transformer_blocks_<first>_<first+count−1>`: image/text states, temb (or modulation) and RoPE tables in; both streams out. */
export function buildQwenTransformerBlocksGraph(
  ctx: GraphContext,
  config: QwenTransformerConfig,
  first: number,
  count: number,
  attention: JointAttention = 'standard',
  placement: ModulationPlacement = 'internal',
): void {
  if (!Number.isInteger(first) || !Number.isInteger(count) || first < 0 || count < 1 || first + count > config.numLayers) {
    throw new InvalidModelError(`blocks ${first}…${first + count - 1} are outside the transformer's ${config.numLayers} blocks`);
  }
  const { builder } = ctx;
  const width = config.heads * config.headDim;
  const pairs = config.headDim / 2;
  let image = builder.input('image', 'float32', [1, 'image_tokens', width]);
  let text = builder.input('text', 'float32', [1, 'text_tokens', width]);
  const temb = placement === 'internal' ? builder.input('temb', 'float32', [1, width]) : '';
  const tables = {
    image: { cos: builder.input('image_rope_cos', 'float32', ['image_tokens', pairs]), sin: builder.input('image_rope_sin', 'float32', ['image_tokens', pairs]) },
    text: { cos: builder.input('text_rope_cos', 'float32', ['text_tokens', pairs]), sin: builder.input('text_rope_sin', 'float32', ['text_tokens', pairs]) },
  };
  for (let index = first; index < first + count; index++) {
    const prefix = `transformer_blocks.${index}`;
    const modulation =
      placement === 'internal'
        ? { image: modulationParameters(ctx, temb, `${prefix}.img_mod`), text: modulationParameters(ctx, temb, `${prefix}.txt_mod`) }
        : {
            image: builder.input(`modulation.${index}.img`, 'float32', [1, 6 * width]),
            text: builder.input(`modulation.${index}.txt`, 'float32', [1, 6 * width]),
          };
    ({ image, text } = qwenTransformerBlock(ctx, image, text, modulation, tables, prefix, config, attention));
  }
  builder.output(image, 'image_out', 'float32', [1, 'image_tokens', width]);
  builder.output(text, 'text_out', 'float32', [1, 'text_tokens', width]);
}

/**
 * `transformer_out`: AdaLayerNormContinuous (emb = Linear(SiLU(temb)) split **scale, shift**)
 * then `proj_out` over every image token; the host keeps the target's first tokens.
 */
export function buildQwenTransformerOutputGraph(ctx: GraphContext, config: QwenTransformerConfig): void {
  const { builder } = ctx;
  const width = config.heads * config.headDim;
  const image = builder.input('image', 'float32', [1, 'image_tokens', width]);
  const temb = builder.input('temb', 'float32', [1, width]);
  const emb = builder.op('Unsqueeze', [linear(ctx, silu(builder, temb), 'norm_out.linear.weight', 'norm_out.linear.bias'), builder.constInt64([1])]);
  const [scale, shift] = builder.node('Split', [emb, builder.constInt64([width, width])], { outputCount: 2, attributes: { axis: 2 } });
  const normed = layerNorm(ctx, image, width, 1e-6);
  const modulated = builder.op('Add', [builder.op('Mul', [normed, builder.op('Add', [scale, builder.constFloat([1], [])])]), shift]);
  const out = linear(ctx, modulated, 'proj_out.weight', 'proj_out.bias');
  builder.output(out, 'velocity', 'float32', [1, 'image_tokens', config.patchSize * config.patchSize * config.outChannels]);
}

/**
 * `transformer_modulation`: `temb [T, D]` (one row per timestep) → `modulation.<i>.img/txt
 * [T, 6D]` for every block. Holds 2 × 60 × (3072 × 18432 + 18432) = 6.80 B of the published
 * model's 20.43 B parameters (33.3 %), so the blocks graphs built with `external` placement carry
 * two thirds of the weights.
 */
export function buildQwenTransformerModulationGraph(ctx: GraphContext, config: QwenTransformerConfig): void {
  const { builder } = ctx;
  const width = config.heads * config.headDim;
  const temb = builder.input('temb', 'float32', ['timesteps', width]);
  for (let index = 0; index < config.numLayers; index++) {
    const prefix = `transformer_blocks.${index}`;
    builder.output(modulationParameters(ctx, temb, `${prefix}.img_mod`), `modulation.${index}.img`, 'float32', ['timesteps', 6 * width]);
    builder.output(modulationParameters(ctx, temb, `${prefix}.txt_mod`), `modulation.${index}.txt`, 'float32', ['timesteps', 6 * width]);
  }
}
