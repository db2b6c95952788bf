import { contractInput, contractOutput } from '../../../../../convert/onnx/contract-io.js';
import { UNIPIC1_GRAPHS } from '../../../graphs.js';
import { InvalidModelError } from '../../../../../errors/invalid-model-error.js';
import type { ModelConfig } from '../../../manifest.js';
import { silu } from '../../../../../convert/graphs/layers/activations.js';
import { layerNorm } from '../../../../../convert/graphs/layers/layer-norm.js';
import { linear, type LinearOptions } from '../../../../../convert/graphs/layers/linear.js';
import type { GraphContext } from '../../../../../convert/graphs/weights.js';
import { TIMESTEP_FEATURES, timestepEmbedding } from '../../../../../convert/graphs/diffusion/timestep-embedding.js';

const NET = 'mar.diffloss.net';
const LAYER_NORM_EPSILON = 1e-6;

export interface DiffusionHeadOptions {
  /** Passed to every projection (q4 accuracy level, symmetric blocks, or quantize: false). */
  linear?: LinearOptions;
  /**
   * `cond_embed(c)` computed by the caller, once for many head calls (the fused sampler takes it
   * outside its loop: `c` is constant over the 100 steps); the graph then does not read `c`.
   */
  embeddedCondition?: string;
}

/** The head's condition projection, for callers that compute it once (`embeddedCondition`). */
export function embedHeadCondition(ctx: GraphContext, c: string, options: DiffusionHeadOptions = {}): string {
  return linear(ctx, c, `${NET}.cond_embed.weight`, `${NET}.cond_embed.bias`, options.linear ?? {});
}

/**
 * `diffusion_head` graph: MAR's SimpleMLPAdaLN f(x_t, t, c). `x [M, 16]`, `t [M]`
 * (float original timestep), `c [M, W]` → `out [M, 32]` (ε, then variance interpolation).
 * Norms, modulation and residuals run in float32 for every graph dtype; only projections follow it.
 */
export function buildDiffusionHeadGraph(ctx: GraphContext, config: Pick<ModelConfig, 'diffusion' | 'mar'>, options: DiffusionHeadOptions = {}): void {
  const { builder, weights } = ctx;
  const width = config.diffusion.width;
  const [, tokenDim] = weights.shape(`${NET}.input_proj.weight`);
  const [, conditionWidth] = weights.shape(`${NET}.cond_embed.weight`);
  const [outChannels] = weights.shape(`${NET}.final_layer.linear.weight`);
  if (tokenDim !== config.mar.tokenDim) throw new InvalidModelError(`diffusion head input ${tokenDim} ≠ token dim ${config.mar.tokenDim}`);
  if (conditionWidth !== config.mar.decoderWidth) throw new InvalidModelError(`diffusion head condition ${conditionWidth} ≠ MAR width ${config.mar.decoderWidth}`);
  if (weights.shape(`${NET}.time_embed.mlp.0.weight`)[1] !== TIMESTEP_FEATURES) throw new InvalidModelError('diffusion head: time embedding must take 256 features');
  const linearOptions = options.linear ?? {};
  const project = (x: string, name: string) => linear(ctx, x, `${name}.weight`, `${name}.bias`, linearOptions);

  const spec = UNIPIC1_GRAPHS.diffusion_head;
  const sizes = { token_dim: tokenDim, condition_width: conditionWidth, diffusion_out: outChannels };
  const x = contractInput(builder, spec, 'x', sizes);
  const t = contractInput(builder, spec, 't', sizes);
  const embedded = options.embeddedCondition ?? embedHeadCondition(ctx, contractInput(builder, spec, 'c', sizes), options);

  // `t` may hold one row for all tokens (the fused sampler): the Add broadcasts it.
  const time = project(silu(builder, project(timestepEmbedding(ctx, t), `${NET}.time_embed.mlp.0`)), `${NET}.time_embed.mlp.2`);
  const condition = builder.op('Add', [time, embedded]);
  // Every adaLN_modulation starts with SiLU of the same y: take it once.
  const activatedCondition = silu(builder, condition);

  let h = project(x, `${NET}.input_proj`);
  for (let i = 0; i < config.diffusion.depth; i++) {
    const block = `${NET}.res_blocks.${i}`;
    const [shift, scale, gate] = chunk(ctx, project(activatedCondition, `${block}.adaLN_modulation.1`), width, 3);
    const normed = layerNorm(ctx, h, width, LAYER_NORM_EPSILON, `${block}.in_ln.weight`, `${block}.in_ln.bias`);
    const inner = project(silu(builder, project(modulate(ctx, normed, shift, scale), `${block}.mlp.0`)), `${block}.mlp.2`);
    h = builder.op('Add', [h, builder.op('Mul', [gate, inner])]);
  }
  const [shift, scale] = chunk(ctx, project(activatedCondition, `${NET}.final_layer.adaLN_modulation.1`), width, 2);
  const normed = layerNorm(ctx, h, width, LAYER_NORM_EPSILON);
  const out = project(modulate(ctx, normed, shift, scale), `${NET}.final_layer.linear`);
  contractOutput(builder, spec, out, 'out', sizes);
}

/** x·(1 + scale) + shift, in this order of operations as in DiT's `modulate`. */
function modulate(ctx: GraphContext, x: string, shift: string, scale: string): string {
  const { builder } = ctx;
  return builder.op('Add', [builder.op('Mul', [x, builder.op('Add', [builder.constFloat([1], []), scale])]), shift]);
}

function chunk(ctx: GraphContext, x: string, width: number, parts: number): string[] {
  return ctx.builder.node('Split', [x, ctx.builder.constInt64(new Array<number>(parts).fill(width))], {
    attributes: { axis: -1 },
    outputCount: parts,
  });
}
