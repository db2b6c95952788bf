import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { STRIP_ENCODER_GRAPH, STRIP_ENCODER_TAIL_INPUT, stripPassNames, type StripEncoderPlan, type StripPass } from '../../../spec/strip-encoder.js';
import { silu } from '../layers/activations.js';
import type { GraphContext } from '../weights.js';
import { conv2d, convOutputChannels } from './conv.js';
import { VAE_GROUP_NORM_EPSILON } from './group-norm.js';
import { stripGroupNorm } from './strip-group-norm.js';

/** An operation of the full-resolution part of an encoder; tensor ids index `StripProgram.ops`. */
type StripOp =
  | { readonly kind: 'conv'; readonly input: number; readonly conv: string; readonly norm?: string; readonly skip?: number; readonly shortcut?: string }
  | { readonly kind: 'downsample'; readonly input: number; readonly conv: string };

/**
 * The full-resolution front of a VAE encoder as a list of tensors (0: the pixels), each made by a
 * 3×3 conv (after GroupNorm → SiLU when `norm`, plus a skip through an optional 1×1 shortcut) or an
 * LDM downsample (pad right/bottom, 3×3 stride 2). Tensors marked `store` are kept at full size by
 * the runtime; the others are recomputed from stored ones inside later passes, so the peak holds
 * few full-resolution tensors at the cost of recomputing some convolutions.
 */
export class StripProgram {
  readonly ops: (StripOp | undefined)[] = [undefined];
  readonly channels: number[];
  readonly scales = [1];
  readonly stored = new Set<number>();

  constructor(
    private readonly ctx: GraphContext,
    inputChannels: number,
  ) {
    this.channels = [inputChannels];
  }

  get last(): number {
    return this.ops.length - 1;
  }

  conv(conv: string, options: { norm?: string; skip?: number; shortcut?: string; input?: number; store?: boolean } = {}): number {
    const input = options.input ?? this.last;
    const inChannels = this.ctx.weights.shape(`${conv}.weight`)[1];
    if (inChannels !== this.channels[input]) throw new InvalidModelError(`${conv} reads ${inChannels} channels, tensor ${input} has ${this.channels[input]}`);
    if (this.ctx.weights.shape(`${conv}.weight`)[2] !== 3) throw new InvalidModelError(`${conv}: the strip encoder handles 3×3 convolutions`);
    const { store, ...rest } = options;
    return this.push({ kind: 'conv', input, conv, ...rest }, convOutputChannels(this.ctx, conv), this.scales[input], store);
  }

  /** A ResnetBlock without time embedding (`norm1, conv1, norm2, conv2`, the 1×1 `shortcutName` when the channels change). */
  resnet(prefix: string, shortcutName: string, options: { store?: boolean } = {}): number {
    const x = this.last;
    const changes = this.channels[x] !== convOutputChannels(this.ctx, `${prefix}.conv2`);
    if (changes && !this.ctx.weights.has(`${prefix}.${shortcutName}.weight`)) throw new InvalidModelError(`${prefix} changes channels but has no ${shortcutName}`);
    this.conv(`${prefix}.conv1`, { norm: `${prefix}.norm1` });
    return this.conv(`${prefix}.conv2`, {
      norm: `${prefix}.norm2`,
      skip: x,
      ...(changes ? { shortcut: `${prefix}.${shortcutName}` } : {}),
      ...(options.store ? { store: true } : {}),
    });
  }

  downsample(conv: string, options: { store?: boolean } = {}): number {
    const input = this.last;
    return this.push({ kind: 'downsample', input, conv }, convOutputChannels(this.ctx, conv), this.scales[input] * 2, options.store);
  }

  private push(op: StripOp, channels: number, scale: number, store?: boolean): number {
    this.ops.push(op);
    this.channels.push(channels);
    this.scales.push(scale);
    if (store) this.stored.add(this.last);
    return this.last;
  }
}

export interface StripEncoderBuild {
  readonly program: StripProgram;
  /** Builds the rest of the encoder on the program's last tensor, declares its outputs, returns their names. */
  readonly tail: (x: string) => readonly string[];
  /** Dims of a minimal `tail_x`. */
  readonly tailDummy: readonly number[];
  readonly groups: number;
}

/**
 * The `vae_encoder_strips` graph (docs/model-format.md, "Strip VAE encoder"): one sub-graph per
 * pass of the program (src/core/vae/strip-encode.ts runs each strip by strip with halo rows and the
 * whole image's GroupNorm statistics) and the tail. A pass computes a tensor that is stored, or whose
 * statistics a later norm needs, from the stored tensors before it. Returns the manifest's plan.
 */
export function buildStripEncoderGraph(ctx: GraphContext, build: StripEncoderBuild): StripEncoderPlan {
  const { program } = build;
  const end = program.last;
  const normed = new Set(program.ops.flatMap((op) => (op?.kind === 'conv' && op.norm ? [op.input] : [])));
  const stored = new Set([0]);
  const passes: StripPass[] = [];
  for (let t = 1; t <= end; t++) {
    const store = program.stored.has(t) || t === end;
    if (!store && !normed.has(t)) continue;
    passes.push(ctx.builder.scoped(`pass${passes.length}`, () => buildPass(ctx, program, build.groups, passes.length, t, stored, store, normed.has(t))));
    if (store) stored.add(t);
  }
  const x = ctx.builder.input(STRIP_ENCODER_TAIL_INPUT, 'float32', [1, program.channels[end], 'tail_rows', 'tail_width']);
  const outputs = build.tail(x);
  return {
    graph: STRIP_ENCODER_GRAPH,
    groups: build.groups,
    epsilon: VAE_GROUP_NORM_EPSILON,
    tensors: program.channels.map((channels, t) => ({ channels, scale: program.scales[t] })),
    passes,
    tail: { input: end, dummy: [...build.tailDummy], outputs: [...outputs] },
  };
}

/** Rows of a tensor a pass needs around its output strip: `lo` above, `hi` below (at the tensor's own resolution). */
interface Halo {
  lo: number;
  hi: number;
}

function buildPass(
  ctx: GraphContext,
  program: StripProgram,
  groups: number,
  k: number,
  t: number,
  stored: ReadonlySet<number>,
  store: boolean,
  stats: boolean,
): StripPass {
  const { builder } = ctx;
  const names = stripPassNames(k);
  // Halo rows of every tensor the pass touches, walking back from the output to stored tensors.
  const halo = new Map<number, Halo>([[t, { lo: 0, hi: 0 }]]);
  const need = (u: number, lo: number, hi: number) => {
    const current = halo.get(u);
    halo.set(u, { lo: Math.max(lo, current?.lo ?? 0), hi: Math.max(hi, current?.hi ?? 0) });
  };
  for (let v = t; v > 0; v--) {
    const op = program.ops[v];
    const h = halo.get(v);
    if (!op || !h || (v !== t && stored.has(v))) continue;
    if (op.kind === 'downsample') need(op.input, 2 * h.lo, 2 * h.hi + 1);
    else {
      need(op.input, h.lo + 1, h.hi + 1);
      if (op.skip !== undefined) need(op.skip, h.lo, h.hi);
    }
  }
  const inputs = [...halo.keys()].filter((u) => u !== t && stored.has(u)).sort((a, b) => a - b);
  const norms: number[] = [];
  const top = builder.op('Reshape', [builder.input(names.top, 'float32', [1]), builder.constInt64([])]);
  const height = builder.op('Reshape', [builder.input(names.height, 'float32', [1]), builder.constInt64([])]);
  const values = new Map<number, string>();
  inputs.forEach((u, i) => values.set(u, builder.input(names.input(i), 'float32', [1, program.channels[u], `${names.input(i)}_rows`, `${names.input(i)}_width`])));

  /** Tensor `u` cut to `want` halo rows (it was computed with `halo.get(u)`). */
  const rows = (u: number, want: Halo): string => {
    const have = halo.get(u)!;
    const value = values.get(u)!;
    if (have.lo === want.lo && have.hi === want.hi) return value;
    const end = want.hi === have.hi ? Number.MAX_SAFE_INTEGER : want.hi - have.hi;
    return builder.op('Slice', [value, builder.constInt64([have.lo - want.lo]), builder.constInt64([end]), builder.constInt64([2])]);
  };
  /** Zero for the rows of `x` (tensor `u`'s rows with `lo` above the strip) that lie outside the image: the conv's zero padding. */
  const masked = (x: string, u: number, lo: number): string => {
    const ratio = program.scales[t] / program.scales[u];
    const first = builder.op('Sub', [builder.op('Mul', [top, builder.constFloat([ratio], [])]), builder.constFloat([lo], [])]);
    const count = builder.op('Cast', [builder.op('Gather', [builder.op('Shape', [x]), builder.constInt64([2], [])], { axis: 0 })], { to: 1 });
    const index = builder.op('Range', [first, builder.op('Add', [first, count]), builder.constFloat([1], [])]);
    const limit = builder.op('Mul', [height, builder.constFloat([ratio], [])]);
    const inside = builder.op('And', [builder.op('GreaterOrEqual', [index, builder.constFloat([0], [])]), builder.op('Less', [index, limit])]);
    const mask = builder.op('Reshape', [builder.op('Cast', [inside], { to: 1 }), builder.constInt64([1, 1, -1, 1])]);
    return builder.op('Mul', [x, mask]);
  };

  for (const u of [...halo.keys()].sort((a, b) => a - b)) {
    if (values.has(u)) continue;
    const op = program.ops[u]!;
    const h = halo.get(u)!;
    if (op.kind === 'downsample') {
      const x = masked(rows(op.input, { lo: 2 * h.lo, hi: 2 * h.hi + 1 }), op.input, 2 * h.lo);
      values.set(u, conv2d(ctx, x, op.conv, { stride: 2, pads: [0, 0, 0, 1] }));
      continue;
    }
    let x = rows(op.input, { lo: h.lo + 1, hi: h.hi + 1 });
    if (op.norm) {
      const j = norms.push(op.input) - 1;
      x = silu(builder, stripGroupNorm(ctx, x, op.norm, program.channels[op.input], groups, names.mean(j), names.rstd(j)));
    }
    let y = conv2d(ctx, masked(x, op.input, h.lo + 1), op.conv, { pads: [0, 1, 0, 1] });
    if (op.skip !== undefined) {
      const skip = rows(op.skip, h);
      y = builder.op('Add', [op.shortcut ? conv2d(ctx, skip, op.shortcut) : skip, y]);
    }
    values.set(u, y);
  }
  builder.output(values.get(t)!, names.y, 'float32', [1, program.channels[t], `${names.y}_rows`, `${names.y}_width`]);
  return { output: t, store, stats, inputs: inputs.map((u) => ({ tensor: u, ...halo.get(u)! })), norms };
}
