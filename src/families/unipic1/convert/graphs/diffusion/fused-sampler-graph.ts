import { contractInput, contractOutput } from '../../../../../convert/onnx/contract-io.js';
import { UNIPIC1_GRAPHS } from '../../../graphs.js';
import { respacedCosineTables, type DiffusionTables } from '../../../diffusion/schedule.js';
import { InvalidModelError } from '../../../../../errors/invalid-model-error.js';
import type { ModelConfig } from '../../../manifest.js';
import { GraphBuilder, type Dim, type ElementType } from '../../../../../convert/onnx/graph-builder.js';
import { onnx } from '../../../../../convert/onnx/proto.js';
import type { GraphContext } from '../../../../../convert/graphs/weights.js';
import { buildDiffusionHeadGraph, embedHeadCondition, type DiffusionHeadOptions } from './diffusion-head-graph.js';

export interface FusedSamplerOptions extends DiffusionHeadOptions {
  /**
   * Classifier-free guidance: `c` then holds the conditional rows followed by as many
   * unconditional rows, the net sees the conditional `x` twice, and ε is combined with `guidance`.
   */
  readonly guided: boolean;
  /**
   * Default true: what is constant over the loop runs once — `cond_embed(c)` before the `Loop`,
   * the time embedding on one row per step (every token shares the timestep) instead of one per
   * token. Same values; `false` keeps the per-step head as is (the benchmark's comparison).
   */
  readonly hoist?: boolean;
}

const LOOP_NODE = 'diffusion_sampler_loop';

/** A built fused sampler: GraphBuilder has no graph-valued attributes, so serialise through this. */
export interface FusedSamplerGraph {
  /** The model bytes, with the loop body attached to the `Loop` node as its `body` attribute. */
  toBytes(): Uint8Array;
}

/**
 * `diffusion_sampler` graph: the per-token ancestral DDPM sampler with the
 * diffusion head inside one ONNX `Loop`, so a MAR iteration's 100 network calls are one
 * `session.run` (or a few, in blocks of steps) instead of 100 host round trips.
 *
 * - in: `x` float `[M, C]` (the state before the first step run here: the start noise for a fresh
 *   sample), `c` float `[M, W]` or `[2M, W]` when guided (conditional rows first), `noise` float
 *   `[S, M, C]` (per-step noise for the S steps run here, in call order; the entry of respaced
 *   step 0 is ignored), `first_step` int64 `[]` (respaced index k of the first call: 99 for a fresh
 *   sample), `guidance` float `[]`, `temperature` float `[]`.
 * - out: `x_out` float `[M, C]` after the steps k = first_step … first_step − S + 1.
 *
 * Arithmetic mirrors src/core/diffusion/sampler.ts op for op in float32 (ε guidance on the first C
 * channels only, learned-range log-variance, x₀ without clipping, posterior mean, noise times
 * exp(½·log-variance) times temperature, no noise at k = 0), with the float64 schedule tables
 * rounded to float32 as that sampler rounds them. The weights are the diffusion head's, added once
 * to the outer graph and read by the loop body from the enclosing scope.
 */
export function buildFusedSamplerGraph(ctx: GraphContext, config: Pick<ModelConfig, 'diffusion' | 'mar'>, options: FusedSamplerOptions): FusedSamplerGraph {
  const { builder } = ctx;
  const channels = config.mar.tokenDim;
  const tables = respacedCosineTables({
    numTimesteps: config.diffusion.numTimesteps,
    steps: config.diffusion.samplingSteps,
    maxBeta: config.diffusion.maxBeta,
  });

  const spec = UNIPIC1_GRAPHS.diffusion_sampler;
  const sizes = { token_dim: channels, condition_width: config.mar.decoderWidth };
  const x = contractInput(builder, spec, 'x', sizes);
  const c = contractInput(builder, spec, 'c', sizes);
  const hoist = options.hoist ?? true;
  const embeddedCondition = hoist ? embedHeadCondition(ctx, c, options) : undefined;
  const noise = contractInput(builder, spec, 'noise', sizes);
  contractInput(builder, spec, 'first_step', sizes);
  contractInput(builder, spec, 'guidance', sizes);
  contractInput(builder, spec, 'temperature', sizes);

  const body = new LoopBodyBuilder(builder);
  buildLoopBody({ ...ctx, builder: body }, config, tables, { ...options, hoist, ...(embeddedCondition ? { embeddedCondition } : {}) });

  const trips = builder.op('Squeeze', [builder.op('Shape', [noise], { start: 0, end: 1 }), builder.constInt64([0])]);
  const [result] = builder.node('Loop', [trips, '', x], { name: LOOP_NODE, outputCount: 1 });
  contractOutput(builder, spec, result, 'x_out', sizes);
  return { toBytes: () => attachBody(builder, body) };
}

function attachBody(builder: GraphBuilder, body: GraphBuilder): Uint8Array {
  const model = onnx.ModelProto.decode(builder.toBytes());
  const loop = model.graph?.node?.find((node) => node.name === LOOP_NODE);
  if (!loop) throw new InvalidModelError('fused sampler graph lost its Loop node');
  const bodyGraph = onnx.ModelProto.decode(body.toBytes()).graph!;
  loop.attribute = [...(loop.attribute ?? []), { name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: bodyGraph }];
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Loop body: `(iteration, condition, x)` → `(condition, x_next)`. The respaced index is
 * k = first_step − iteration; the head runs on (x or [x; x], S_k, c).
 */
function buildLoopBody(
  ctx: GraphContext & { builder: LoopBodyBuilder },
  config: Pick<ModelConfig, 'diffusion' | 'mar'>,
  tables: DiffusionTables,
  options: FusedSamplerOptions,
): void {
  const body = ctx.builder;
  const channels = config.mar.tokenDim;
  const iteration = body.input('iteration', 'int64', []);
  const condition = body.input('condition', 'bool', []);
  const state = body.input('x_state', 'float32', ['tokens', channels]);

  const step = body.op('Sub', ['first_step', iteration]);
  const table = (values: Float64Array) => body.op('Gather', [body.constFloat(Array.from(values, Math.fround), [values.length]), step], { axis: 0 });
  const timestep = table(tables.timesteps);

  body.headInputs = {
    x: options.guided ? body.op('Concat', [state, state], { axis: 0 }) : state,
    // Every token shares the step's timestep: hoisted, its embedding is one row that broadcasts.
    t: options.hoist ? body.op('Unsqueeze', [timestep, body.constInt64([0])]) : body.op('Expand', [timestep, body.op('Shape', ['c'], { start: 0, end: 1 })]),
    c: 'c',
  };
  buildDiffusionHeadGraph(ctx, config, options);
  const out = body.headOutput;
  if (!out) throw new InvalidModelError('the diffusion head declared no output');

  const split = (tensor: string, axis: number, parts: number) => body.node('Split', [tensor], { attributes: { axis, num_outputs: parts }, outputCount: parts });
  const [conditional, unconditional] = options.guided ? split(out, 0, 2) : [out, undefined];
  const [conditionalEps, variance] = split(conditional, 1, 2);
  let eps = conditionalEps;
  if (unconditional) {
    const [unconditionalEps] = split(unconditional, 1, 2);
    eps = body.op('Add', [unconditionalEps, body.op('Mul', ['guidance', body.op('Sub', [conditionalEps, unconditionalEps])])]);
  }

  const one = body.constFloat([1], []);
  const fraction = body.op('Div', [body.op('Add', [variance, one]), body.constFloat([2], [])]);
  const logVariance = body.op('Add', [
    body.op('Mul', [fraction, table(tables.logBetas)]),
    body.op('Mul', [body.op('Sub', [one, fraction]), table(tables.posteriorLogVarianceClipped)]),
  ]);
  const start = body.op('Sub', [body.op('Mul', [table(tables.sqrtRecipAlphasCumprod), state]), body.op('Mul', [table(tables.sqrtRecipm1AlphasCumprod), eps])]);
  const mean = body.op('Add', [body.op('Mul', [table(tables.posteriorMeanCoef1), start]), body.op('Mul', [table(tables.posteriorMeanCoef2), state])]);
  const stepNoise = body.op('Gather', ['noise', iteration], { axis: 0 });
  const deviation = body.op('Exp', [body.op('Mul', [body.constFloat([0.5], []), logVariance])]);
  const noisy = body.op('Add', [mean, body.op('Mul', [body.op('Mul', [deviation, stepNoise]), 'temperature'])]);
  // No noise on the last step (k = 0), as p_sample's nonzero_mask.
  const next = body.op('Where', [body.op('Greater', [step, body.constInt64([0], [])]), noisy, mean]);

  body.output(body.op('Identity', [condition]), 'condition_out', 'bool', []);
  body.output(next, 'x_next', 'float32', ['tokens', channels]);
}

/**
 * Builds the loop body: weights and constants go to the outer graph (read from the enclosing
 * scope, stored once), the head's `x` / `t` / `c` inputs are rerouted to values computed in the body,
 * and its `out` is kept for the sampler arithmetic instead of becoming a body output.
 */
class LoopBodyBuilder extends GraphBuilder {
  headInputs: { x: string; t: string; c: string } | undefined;
  headOutput: string | undefined;

  constructor(private readonly outer: GraphBuilder) {
    super('diffusion_sampler_body');
  }

  // Fresh names carry a prefix so they never meet the outer builder's (constants land there).
  override fresh(hint: string): string {
    return super.fresh(`body_${hint}`);
  }

  override input(name: string, type: ElementType, shape: readonly Dim[]): string {
    if (this.headInputs && (name === 'x' || name === 't' || name === 'c')) return this.headInputs[name];
    return super.input(name, type, shape);
  }

  override output(value: string, name: string, type: ElementType, shape: readonly Dim[]): void {
    if (name === 'out' && this.headInputs && !this.headOutput) {
      this.headOutput = value;
      return;
    }
    super.output(value, name, type, shape);
  }

  override initializer(name: string, type: ElementType, dims: readonly number[], bytes: Uint8Array): string {
    return this.outer.initializer(name, type, dims, bytes);
  }
}
