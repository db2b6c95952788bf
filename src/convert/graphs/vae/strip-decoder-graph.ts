import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { STRIP_DECODER_GRAPH, stripNames, type StripDecoderPlan, type StripStage } from '../../../spec/strip-decoder.js';
import type { Dim } from '../../onnx/graph-builder.js';
import { silu } from '../layers/activations.js';
import type { GraphContext } from '../weights.js';
import { conv2d, convOutputChannels } from './conv.js';
import { VAE_GROUP_NORM_EPSILON } from './group-norm.js';
import { stripGroupNorm } from './strip-group-norm.js';

/** A stage as a family describes it: checkpoint prefixes instead of channel counts. */
export type StripStageBuild =
  | {
      readonly kind: 'conv';
      readonly norm: string;
      readonly conv: string;
      readonly input: number;
      readonly skip?: { readonly from: number; readonly shortcut?: string };
    }
  | { readonly kind: 'upsample'; readonly conv: string; readonly input: number };

export interface StripDecoderBuild {
  /** The head's latent input: its shape and the dims of a minimal dummy of it. */
  readonly latent: { readonly shape: readonly Dim[]; readonly dummy: readonly number[] };
  /** Builds the low-resolution part on the latent; returns its output and channel count. */
  readonly head: (latents: string) => { output: string; channels: number };
  readonly stages: readonly StripStageBuild[];
  readonly groups: number;
}

/**
 * The `vae_decoder_strips` graph (docs/model-format.md, "Strip VAE decoder"): the decoder's head as
 * stage 0, then one independent sub-graph per GroupNorm-to-conv stage of the high-resolution tail,
 * which the runtime (`src/core/vae/strip-decode.ts`) runs strip by strip with halo rows and the
 * whole image's GroupNorm statistics. Every stage has its own inputs so the weights stay constant
 * initializers (ORT pre-packs them). Returns the manifest's plan.
 */
export function buildStripDecoderGraph(ctx: GraphContext, build: StripDecoderBuild): StripDecoderPlan {
  const { builder } = ctx;
  const head = build.head(builder.input(stripNames(0).x, 'float32', build.latent.shape));
  // Every strip tensor has its own row/width dims: a shared name would tell ORT they are equal.
  const dims = (name: string, channels: number) => [1, channels, `${name}_rows`, `${name}_width`];
  builder.output(head.output, stripNames(0).y, 'float32', dims(stripNames(0).y, head.channels));
  const channels: number[] = [head.channels];
  const stages: StripStage[] = [{ kind: 'head', dummy: [...build.latent.dummy] }];
  build.stages.forEach((stage, index) => {
    const k = index + 1;
    if (stage.input >= k) throw new InvalidModelError(`strip stage ${k} reads stage ${stage.input}, which comes later`);
    const inChannels = channels[stage.input];
    const names = stripNames(k);
    const x = builder.input(names.x, 'float32', dims(names.x, inChannels));
    let y: string;
    if (stage.kind === 'upsample') {
      y = builder.scoped(`stage${k}`, () => upsampleStrip(ctx, x, stage.conv));
      stages.push({ kind: 'upsample', input: stage.input, channels: inChannels });
    } else {
      y = builder.scoped(`stage${k}`, () => convStrip(ctx, k, x, stage.norm, stage.conv, inChannels, build.groups));
      if (stage.skip) {
        const skipChannels = channels[stage.skip.from];
        const skip = builder.input(names.skip, 'float32', dims(names.skip, skipChannels));
        const shortcut = stage.skip.shortcut ? conv2d(ctx, skip, stage.skip.shortcut) : skip;
        y = builder.op('Add', [shortcut, y]);
        stages.push({ kind: 'conv', input: stage.input, channels: inChannels, skip: stage.skip.from, skipChannels });
      } else {
        stages.push({ kind: 'conv', input: stage.input, channels: inChannels });
      }
    }
    const outChannels = convOutputChannels(ctx, stage.conv);
    builder.output(y, names.y, 'float32', dims(names.y, outChannels));
    if (outChannels % build.groups === 0) stripMoments(ctx, k, y, build.groups);
    channels.push(outChannels);
  });
  return { graph: STRIP_DECODER_GRAPH, groups: build.groups, epsilon: VAE_GROUP_NORM_EPSILON, stages, statistics: 'graph' };
}

/**
 * The strip's per-group mean and sum of squared deviations from it, as outputs `s<k>_y_mean` and
 * `s<k>_y_m2`: ORT reduces the strip with both cores while it is in cache, instead of a JS pass
 * over every stored tensor (docs/performance.md, "Strip VAE decode, round 3"). Deviations from the
 * strip's own mean, so a large mean does not cancel the variance.
 */
function stripMoments(ctx: GraphContext, k: number, y: string, groups: number): void {
  const { builder } = ctx;
  const names = stripNames(k);
  const grouped = builder.op('Reshape', [y, builder.constInt64([groups, -1])]);
  const axis = builder.constInt64([1]);
  const mean = builder.op('ReduceMean', [grouped, axis], { keepdims: 1 });
  const m2 = builder.op('ReduceSumSquare', [builder.op('Sub', [grouped, mean]), axis], { keepdims: 0 });
  builder.output(builder.op('Reshape', [mean, builder.constInt64([groups])]), names.yMean, 'float32', [groups]);
  builder.output(m2, names.yM2, 'float32', [groups]);
}

/**
 * GroupNorm with given statistics → affine → SiLU → zero the rows outside the image (`mask`: the
 * conv's zero padding applies to its input, after the activation) → 3×3 conv without row padding:
 * `rows + 2` input rows give `rows` output rows.
 */
function convStrip(ctx: GraphContext, k: number, x: string, norm: string, conv: string, channels: number, groups: number): string {
  const { builder } = ctx;
  const names = stripNames(k);
  const mask = builder.op('Reshape', [builder.input(names.mask, 'float32', [`${names.mask}_rows`]), builder.constInt64([1, 1, -1, 1])]);
  const affine = stripGroupNorm(ctx, x, norm, channels, groups, names.mean, names.rstd);
  return conv2d(ctx, builder.op('Mul', [silu(builder, affine), mask]), conv, { pads: [0, 1, 0, 1] });
}

/** Nearest ×2 of `rows + 2` input rows, the outer upsampled row on each side dropped, 3×3 conv: `2·rows` output rows. */
function upsampleStrip(ctx: GraphContext, x: string, conv: string): string {
  const { builder } = ctx;
  const doubled = builder.op('Resize', [x, '', builder.constFloat([1, 1, 2, 2])], {
    mode: 'nearest',
    coordinate_transformation_mode: 'asymmetric',
    nearest_mode: 'floor',
  });
  const inner = builder.op('Slice', [doubled, builder.constInt64([1]), builder.constInt64([-1]), builder.constInt64([2])]);
  return conv2d(ctx, inner, conv, { pads: [0, 1, 0, 1] });
}

/**
 * Collects the tail's stages in decoder order (stage 0 is the head): ResnetBlocks as two `conv`
 * stages (the second adds the block input), upsamplers, and the output norm + conv.
 */
export class StripTail {
  readonly stages: StripStageBuild[] = [];
  private last = 0;

  constructor(private readonly ctx: GraphContext) {}

  /** A ResnetBlock (`norm1, conv1, norm2, conv2` and, when the channels change, the 1×1 `shortcutName`). */
  resnet(prefix: string, shortcutName: string): this {
    const x = this.last;
    const changes = this.ctx.weights.shape(`${prefix}.conv1.weight`)[1] !== convOutputChannels(this.ctx, `${prefix}.conv2`);
    if (changes && !this.ctx.weights.has(`${prefix}.${shortcutName}.weight`)) throw new InvalidModelError(`${prefix} changes channels but has no ${shortcutName}`);
    const h = this.push({ kind: 'conv', norm: `${prefix}.norm1`, conv: `${prefix}.conv1`, input: x });
    this.push({
      kind: 'conv',
      norm: `${prefix}.norm2`,
      conv: `${prefix}.conv2`,
      input: h,
      skip: { from: x, shortcut: changes ? `${prefix}.${shortcutName}` : undefined },
    });
    return this;
  }

  upsample(conv: string): this {
    this.push({ kind: 'upsample', conv, input: this.last });
    return this;
  }

  /** The output GroupNorm → SiLU → conv. */
  out(norm: string, conv: string): this {
    this.push({ kind: 'conv', norm, conv, input: this.last });
    return this;
  }

  private push(stage: StripStageBuild): number {
    this.stages.push(stage);
    this.last = this.stages.length;
    return this.last;
  }
}
