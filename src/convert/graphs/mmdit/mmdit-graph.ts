import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { geluTanh, silu } from '../layers/activations.js';
import { attendHeads, mergeHeads, splitHeads } from '../layers/attention.js';
import { layerNorm } from '../layers/layer-norm.js';
import { linear } from '../layers/linear.js';
import { rmsNorm } from '../layers/rms-norm.js';
import { chunkLastAxis } from '../layers/split-chunks.js';
import { timestepEmbedding } from '../diffusion/timestep-embedding.js';
import type { GraphBuilder } from '../../onnx/graph-builder.js';
import type { GraphContext } from '../weights.js';
import { withShapes } from '../reshaped-weights.js';

export interface MmditConfig {
  readonly width: number;
  readonly heads: number;
  readonly headDim: number;
  readonly layers: number;
  readonly patchSize: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly jointAttentionDim: number;
  readonly pooledProjectionDim: number;
  /** Blocks with the second, image-only attention (SD3.5 "X" blocks). */
  readonly dualAttentionLayers: readonly number[];
}

const EPS = 1e-6;
const P = 'transformer.';

/**
 * `transformer` graph: the UniPic2 Kontext MMDiT-X (diffusers `SD3Transformer2DModel` plus the reference
 * tokens of the official `transformer_sd3_kontext.py`), one velocity prediction.
 * - in: `hidden_states [B, N, C·p²]` and `ref_hidden_states [B, R, C·p²]` (patchified latents, each
 *   row the `(c, py, px)` patch as the 2×2 conv weight is laid out; R = 0 for text-to-image),
 *   `pos_embed [1, R+N, width]` (rows for the reference tokens then the target tokens),
 *   `encoder_hidden_states [B, T, joint]`, `pooled_projections [B, pooled]`, `timestep [B]` (σ·1000).
 * - out: `velocity [B, N, p²·C]`, rows ordered `(py, px, c)` as `proj_out` writes them.
 * Reference and target tokens share one patch embedding and go through every block together; the
 * target's last N rows are taken before `norm_out`. `intermediates` adds outputs for the stages the
 * oracle records (`patch_embed`, `temb`, `context_embed`, `block{i}.image`, `block{i}.context`), for
 * parity tests and backend bisection; converted models never have them.
 */
export interface MmditGraphOptions {
  /** Add the stage outputs the oracle records (parity tests, backend bisection). */
  readonly intermediates?: boolean;
  /**
   * `fused` (default): com.microsoft MultiHeadAttention, which never holds the `[B, heads, S, S]`
   * scores at once on EPs with a memory-efficient kernel (at 1024² editing, S = 8525: 14 GB of
   * float32 scores per attention otherwise). `standard`: explicit MatMul/Softmax (every EP).
   */
  readonly attention?: 'fused' | 'standard';
}

export function buildMmditGraph(ctx: GraphContext, config: MmditConfig, options: MmditGraphOptions = {}): void {
  const { builder } = ctx;
  const { width, heads, headDim } = config;
  if (heads * headDim !== width) throw new InvalidModelError(`transformer width ${width} ≠ ${heads} heads × ${headDim}`);
  const patch = config.inChannels * config.patchSize ** 2;
  const conv = `${P}pos_embed.proj.weight`;
  const convShape = ctx.weights.shape(conv);
  if (convShape.join() !== [width, config.inChannels, config.patchSize, config.patchSize].join()) {
    throw new InvalidModelError(`${conv} is [${convShape.join(', ')}], expected [${width}, ${config.inChannels}, ${config.patchSize}, ${config.patchSize}]`);
  }
  const patchCtx: GraphContext = { ...ctx, weights: withShapes(ctx.weights, { [conv]: [width, patch] }) };

  const target = builder.input('hidden_states', 'float32', ['batch', 'tokens', patch]);
  const reference = builder.input('ref_hidden_states', 'float32', ['batch', 'ref_tokens', patch]);
  const positions = builder.input('pos_embed', 'float32', [1, 'image_tokens', width]);
  const text = builder.input('encoder_hidden_states', 'float32', ['batch', 'text_tokens', config.jointAttentionDim]);
  const pooled = builder.input('pooled_projections', 'float32', ['batch', config.pooledProjectionDim]);
  const timestep = builder.input('timestep', 'float32', ['batch']);

  const patches = builder.op('Concat', [reference, target], { axis: 1 });
  let x = builder.op('Add', [linear(patchCtx, patches, conv, `${P}pos_embed.proj.bias`, { quantize: false }), positions]);
  const tap = (value: string, name: string, shape: (string | number)[]) => {
    if (options.intermediates) builder.output(value, name, 'float32', shape);
  };
  tap(x, 'patch_embed', ['batch', 'image_tokens', width]);

  const mlp = (input: string, name: string): string =>
    linear(ctx, silu(builder, linear(ctx, input, `${name}.linear_1.weight`, `${name}.linear_1.bias`)), `${name}.linear_2.weight`, `${name}.linear_2.bias`);
  const temb = builder.op('Add', [mlp(timestepEmbedding(ctx, timestep), `${P}time_text_embed.timestep_embedder`), mlp(pooled, `${P}time_text_embed.text_embedder`)]);
  const conditioning = silu(builder, temb);
  let c = linear(ctx, text, `${P}context_embedder.weight`, `${P}context_embedder.bias`);
  tap(temb, 'temb', ['batch', width]);
  tap(c, 'context_embed', ['batch', 'text_tokens', width]);

  for (let i = 0; i < config.layers; i++) {
    ({ x, c } = jointBlock(ctx, x, c, conditioning, config, i, options.attention ?? 'fused'));
    tap(x, `block${i}.image`, ['batch', 'image_tokens', width]);
    if (i < config.layers - 1) tap(c, `block${i}.context`, ['batch', 'text_tokens', width]);
  }

  const referenceCount = builder.op('Slice', [builder.op('Shape', [reference]), builder.constInt64([1]), builder.constInt64([2])]);
  const targetTokens = builder.op('Slice', [x, referenceCount, builder.constInt64([Number.MAX_SAFE_INTEGER]), builder.constInt64([1])]);
  const [scale, shift] = modulation(ctx, conditioning, `${P}norm_out.linear`, 2, width);
  const normed = modulate(builder, layerNorm(ctx, targetTokens, width, EPS), shift, scale);
  const out = linear(ctx, normed, `${P}proj_out.weight`, `${P}proj_out.bias`);
  builder.output(out, 'velocity', 'float32', ['batch', 'tokens', config.patchSize ** 2 * config.outChannels]);
}

/** `Linear(SiLU(temb))` chunked into `count` rows `[B, 1, width]` (AdaLN modulation vectors). */
function modulation(ctx: GraphContext, conditioning: string, name: string, count: number, width: number): string[] {
  const { builder } = ctx;
  const rows = ctx.weights.shape(`${name}.weight`)[0];
  if (rows !== count * width) throw new InvalidModelError(`${name}.weight has ${rows} rows, expected ${count} × ${width}`);
  const emb = builder.op('Unsqueeze', [linear(ctx, conditioning, `${name}.weight`, `${name}.bias`), builder.constInt64([1])]);
  // Not one 9-way Split for the dual blocks: onnxruntime-web's WebGPU Split is wrong past 7 outputs.
  return chunkLastAxis(builder, emb, count, width);
}

/** `x·(1 + scale) + shift`. */
function modulate(builder: GraphBuilder, x: string, shift: string, scale: string): string {
  return builder.op('Add', [builder.op('Mul', [x, builder.op('Add', [scale, builder.constFloat([1], [])])]), shift]);
}

function feedForward(ctx: GraphContext, x: string, name: string): string {
  const hidden = geluTanh(ctx.builder, linear(ctx, x, `${name}.net.0.proj.weight`, `${name}.net.0.proj.bias`));
  return linear(ctx, hidden, `${name}.net.2.weight`, `${name}.net.2.bias`);
}

type AttentionForm = 'fused' | 'standard';

/**
 * q/k/v projections of one stream, q and k RMS-normalised per head: heads-first `[B, H, S, d]` for
 * the standard form, `[B, S, H·d]` for MultiHeadAttention.
 */
function projectHeads(
  ctx: GraphContext,
  x: string,
  names: { q: string; k: string; v: string; normQ: string; normK: string },
  config: MmditConfig,
  form: AttentionForm,
) {
  const { builder } = ctx;
  const project = (name: string): string => linear(ctx, x, `${name}.weight`, `${name}.bias`);
  if (form === 'standard') {
    const heads = (name: string): string => splitHeads(builder, project(name), config.heads, config.headDim);
    return { q: rmsNorm(ctx, heads(names.q), `${names.normQ}.weight`, EPS), k: rmsNorm(ctx, heads(names.k), `${names.normK}.weight`, EPS), v: heads(names.v) };
  }
  const perHead = builder.constInt64([0, 0, config.heads, config.headDim]);
  const flat = builder.constInt64([0, 0, config.heads * config.headDim]);
  const normed = (name: string, norm: string): string =>
    builder.op('Reshape', [rmsNorm(ctx, builder.op('Reshape', [project(name), perHead]), `${norm}.weight`, EPS), flat]);
  return { q: normed(names.q, names.normQ), k: normed(names.k, names.normK), v: project(names.v) };
}

/** Attention over q/k/v in `form`'s layout → `[B, S, H·d]`, scale d^−½, no mask. */
function attend(ctx: GraphContext, heads: { q: string; k: string; v: string }, config: MmditConfig, form: AttentionForm): string {
  const { builder } = ctx;
  if (form === 'fused') return builder.op('MultiHeadAttention', [heads.q, heads.k, heads.v], { num_heads: config.heads }, 'com.microsoft');
  return mergeHeads(builder, attendHeads(builder, heads.q, heads.k, heads.v, config.headDim), config.heads, config.headDim);
}

/** diffusers `JointTransformerBlock`, with the dual attention and the context-pre-only last block. */
function jointBlock(
  ctx: GraphContext,
  x: string,
  c: string,
  conditioning: string,
  config: MmditConfig,
  index: number,
  form: AttentionForm,
): { x: string; c: string } {
  const { builder } = ctx;
  const { width } = config;
  const block = `${P}transformer_blocks.${index}.`;
  const dual = config.dualAttentionLayers.includes(index);
  const contextPreOnly = index === config.layers - 1;
  const gate = (value: string, g: string): string => builder.op('Mul', [g, value]);

  const m = modulation(ctx, conditioning, `${block}norm1.linear`, dual ? 9 : 6, width);
  const [shiftMsa, scaleMsa, gateMsa, shiftMlp, scaleMlp, gateMlp] = m;
  const xNorm = layerNorm(ctx, x, width, EPS);
  const xAttn = modulate(builder, xNorm, shiftMsa, scaleMsa);

  let cAttn: string;
  let cm: string[] = [];
  if (contextPreOnly) {
    const [scale, shift] = modulation(ctx, conditioning, `${block}norm1_context.linear`, 2, width);
    cAttn = modulate(builder, layerNorm(ctx, c, width, EPS), shift, scale);
  } else {
    cm = modulation(ctx, conditioning, `${block}norm1_context.linear`, 6, width);
    cAttn = modulate(builder, layerNorm(ctx, c, width, EPS), cm[0], cm[1]);
  }

  const attn = `${block}attn.`;
  const image = projectHeads(ctx, xAttn, { q: `${attn}to_q`, k: `${attn}to_k`, v: `${attn}to_v`, normQ: `${attn}norm_q`, normK: `${attn}norm_k` }, config, form);
  const context = projectHeads(
    ctx,
    cAttn,
    { q: `${attn}add_q_proj`, k: `${attn}add_k_proj`, v: `${attn}add_v_proj`, normQ: `${attn}norm_added_q`, normK: `${attn}norm_added_k` },
    config,
    form,
  );
  // Sequence order [image…, context…]; the sequence axis is 2 heads-first, 1 in the fused layout.
  const joined = (a: string, b: string): string => builder.op('Concat', [a, b], { axis: form === 'standard' ? 2 : 1 });
  const attended = attend(ctx, { q: joined(image.q, context.q), k: joined(image.k, context.k), v: joined(image.v, context.v) }, config, form);
  const lengths = builder.op('Concat', [shapeAt(builder, x, 1), shapeAt(builder, c, 1)], { axis: 0 });
  const [imageOut, contextOut] = builder.node('Split', [attended, lengths], { attributes: { axis: 1 }, outputCount: 2 });

  x = builder.op('Add', [x, gate(linear(ctx, imageOut, `${attn}to_out.0.weight`, `${attn}to_out.0.bias`), gateMsa)]);
  if (dual) {
    const [shift2, scale2, gate2] = m.slice(6);
    const attn2 = `${block}attn2.`;
    const own = projectHeads(
      ctx,
      modulate(builder, xNorm, shift2, scale2),
      { q: `${attn2}to_q`, k: `${attn2}to_k`, v: `${attn2}to_v`, normQ: `${attn2}norm_q`, normK: `${attn2}norm_k` },
      config,
      form,
    );
    const selfAttended = attend(ctx, own, config, form);
    x = builder.op('Add', [x, gate(linear(ctx, selfAttended, `${attn2}to_out.0.weight`, `${attn2}to_out.0.bias`), gate2)]);
  }
  const xFf = modulate(builder, layerNorm(ctx, x, width, EPS), shiftMlp, scaleMlp);
  x = builder.op('Add', [x, gate(feedForward(ctx, xFf, `${block}ff`), gateMlp)]);

  if (!contextPreOnly) {
    const [, , cGateMsa, cShiftMlp, cScaleMlp, cGateMlp] = cm;
    c = builder.op('Add', [c, gate(linear(ctx, contextOut, `${attn}to_add_out.weight`, `${attn}to_add_out.bias`), cGateMsa)]);
    const cFf = modulate(builder, layerNorm(ctx, c, width, EPS), cShiftMlp, cScaleMlp);
    c = builder.op('Add', [c, gate(feedForward(ctx, cFf, `${block}ff_context`), cGateMlp)]);
  }
  return { x, c };
}

function shapeAt(builder: GraphBuilder, x: string, axis: number): string {
  return builder.op('Slice', [builder.op('Shape', [x]), builder.constInt64([axis]), builder.constInt64([axis + 1])]);
}
