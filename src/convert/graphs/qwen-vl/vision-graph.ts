import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { geluErf, silu } from '../layers/activations.js';
import { linear, type LinearOptions } from '../layers/linear.js';
import { rmsNorm } from '../layers/rms-norm.js';
import { applyRotary, rotaryTablesFromAngles, type RotaryTables } from '../llm/rotary-embedding.js';
import type { GraphContext, WeightSource } from '../weights.js';
import type { VisionConfig } from './vlm-config.js';

export const PATCH_EMBED_WEIGHT = 'visual.patch_embed.proj.weight';
const FLOAT32_LOWEST = -3.4028234663852886e38;

export interface VisionGraphOptions {
  linear?: Omit<LinearOptions, 'quantize'>;
  /** Also output `patch_embed` and `block.{i}` (window order) — for parity tests. */
  intermediates?: boolean;
}

/**
 * `vision` graph (transformers `Qwen2_5_VisionTransformerPretrainedModel`) for one image. Inputs, all from the host:
 * `pixel_values [N, C·T·P·P]` in the processor's patch order; `patch_order [N]` (window order, patch
 * level); `rotary_angles [N, D/2]` (2-D angles in patch order); `window_slots [W·S]`,
 * `window_key_valid [W, S]`, `window_unslots [N]` (windowed blocks run as a batch of W windows of S =
 * (window/patch)² slots, padding keys masked — memory O(N·S) instead of O(N²)); full-attention blocks
 * attend over the whole image; `merged_order [N/4]` (the inverse merge-unit permutation). Output
 * `image_embeds [N/4, out]` in the image's row-major merge-unit order, ready to scatter into the
 * `<|image_pad|>` slots.
 */
export function buildVisionGraph(ctx: GraphContext, config: VisionConfig, options: VisionGraphOptions = {}): void {
  const { builder } = ctx;
  const { hiddenSize: width, numHeads: heads, headDim } = config;
  const rowWidth = 3 * config.temporalPatchSize * config.patchSize * config.patchSize;
  const merge = config.spatialMergeSize * config.spatialMergeSize;
  const pixels = builder.input('pixel_values', 'float32', ['patches', rowWidth]);
  const order = builder.input('patch_order', 'int64', ['patches']);
  const angles = builder.input('rotary_angles', 'float32', ['patches', headDim / 2]);
  const slots = (config.windowSize / config.patchSize) ** 2;
  const windowSlots = builder.input('window_slots', 'int64', ['slots']);
  const windowKeyValid = builder.input('window_key_valid', 'int64', ['windows', slots]);
  const windowUnslots = builder.input('window_unslots', 'int64', ['patches']);
  const mergedOrder = builder.input('merged_order', 'int64', ['merged']);
  const lin = options.linear ?? {};

  // Conv3d with kernel = stride is a MatMul over the flattened (C, T, P, P) patch.
  const embedded = linear(ctx, pixels, PATCH_EMBED_WEIGHT, undefined, lin);
  if (options.intermediates) builder.output(embedded, 'patch_embed', 'float32', ['patches', width]);
  let hidden = builder.op('Gather', [embedded, order], { axis: 0 });
  const windowAngles = builder.op('Unsqueeze', [builder.op('Gather', [angles, order], { axis: 0 }), builder.constInt64([0])]);
  const rotary = rotaryTablesFromAngles(ctx, windowAngles);
  // [W, 1, 1, S]: which slots of each window hold a patch (keys), broadcast over heads and queries.
  const keyValid = builder.op('Unsqueeze', [builder.op('Cast', [windowKeyValid], { to: 9 }), builder.constInt64([1, 2])]);
  const windowing: Windowing = { slots, windowSlots, keyValid, windowUnslots };
  const full = new Set(config.fullAttentionBlocks);

  for (let b = 0; b < config.depth; b++) {
    const prefix = `visual.blocks.${b}`;
    const normed = rmsNorm(ctx, hidden, `${prefix}.norm1.weight`, config.rmsNormEps);
    const attended = attention(ctx, normed, prefix, { heads, headDim, width, rotary, windowing: full.has(b) ? undefined : windowing, lin });
    hidden = builder.op('Add', [hidden, attended]);
    const mlpIn = rmsNorm(ctx, hidden, `${prefix}.norm2.weight`, config.rmsNormEps);
    const gate = silu(builder, linear(ctx, mlpIn, `${prefix}.mlp.gate_proj.weight`, `${prefix}.mlp.gate_proj.bias`, lin));
    const up = linear(ctx, mlpIn, `${prefix}.mlp.up_proj.weight`, `${prefix}.mlp.up_proj.bias`, lin);
    hidden = builder.op('Add', [hidden, linear(ctx, builder.op('Mul', [gate, up]), `${prefix}.mlp.down_proj.weight`, `${prefix}.mlp.down_proj.bias`, lin)]);
    if (options.intermediates) builder.output(hidden, `block.${b}`, 'float32', ['patches', width]);
  }

  // Merger: RMSNorm, 2×2 merge units (4 consecutive window-ordered patches) → Linear, exact GELU, Linear.
  const merged = builder.op('Reshape', [rmsNorm(ctx, hidden, 'visual.merger.ln_q.weight', config.rmsNormEps), builder.constInt64([-1, width * merge])]);
  const projected = linear(
    ctx,
    geluErf(builder, linear(ctx, merged, 'visual.merger.mlp.0.weight', 'visual.merger.mlp.0.bias', lin)),
    'visual.merger.mlp.2.weight',
    'visual.merger.mlp.2.bias',
    lin,
  );
  if (options.intermediates) builder.output(projected, 'merger', 'float32', ['merged', config.outHiddenSize]);
  builder.output(builder.op('Gather', [projected, mergedOrder], { axis: 0 }), 'image_embeds', 'float32', ['merged', config.outHiddenSize]);
}

interface Windowing {
  readonly slots: number;
  readonly windowSlots: string;
  readonly keyValid: string;
  readonly windowUnslots: string;
}

function attention(
  ctx: GraphContext,
  x: string,
  prefix: string,
  shape: { heads: number; headDim: number; width: number; rotary: RotaryTables; windowing?: Windowing; lin: Omit<LinearOptions, 'quantize'> },
): string {
  const { builder } = ctx;
  const { heads, headDim, width, windowing } = shape;
  // Fused qkv [N, 3·W] → [1, N, 3, H, D]; q, k get rotate-half RoPE in float32 (per token, so before
  // any regrouping).
  const qkv = builder.op('Reshape', [
    linear(ctx, x, `${prefix}.attn.qkv.weight`, `${prefix}.attn.qkv.bias`, shape.lin),
    builder.constInt64([1, -1, 3, heads, headDim]),
  ]);
  const [q, k, v] = builder.node('Split', [qkv, builder.constInt64([1, 1, 1])], { attributes: { axis: 2 }, outputCount: 3 });
  const squeeze = (t: string): string => builder.op('Squeeze', [t, builder.constInt64([2])]);
  // [1, N, H, D] → [B, L, H, D]: the whole image as one row, or the windows as rows of `slots`.
  const group = (t: string): string =>
    windowing
      ? builder.op('Reshape', [
          builder.op('Gather', [builder.op('Squeeze', [t, builder.constInt64([0])]), windowing.windowSlots], { axis: 0 }),
          builder.constInt64([-1, windowing.slots, heads, headDim]),
        ])
      : t;
  const headsFirst = { perm: [0, 2, 1, 3] };
  const query = builder.op('Transpose', [group(applyRotary(ctx, squeeze(q), shape.rotary, headDim))], headsFirst);
  const keyT = builder.op('Transpose', [group(applyRotary(ctx, squeeze(k), shape.rotary, headDim))], { perm: [0, 2, 3, 1] });
  const value = builder.op('Transpose', [group(squeeze(v))], headsFirst);
  let scores = builder.op('Mul', [builder.op('MatMul', [query, keyT]), builder.constFloat([1 / Math.sqrt(headDim)], [])]);
  if (windowing) scores = builder.op('Where', [windowing.keyValid, scores, builder.constFloat([FLOAT32_LOWEST], [])]);
  const context = builder.op('MatMul', [builder.op('Softmax', [scores], { axis: -1 }), value]);
  let merged = builder.op('Reshape', [builder.op('Transpose', [context], headsFirst), builder.constInt64([-1, width])]);
  // Back from window slots to the window-ordered patches (padding slots dropped).
  if (windowing) merged = builder.op('Gather', [merged, windowing.windowUnslots], { axis: 0 });
  return linear(ctx, merged, `${prefix}.attn.proj.weight`, `${prefix}.attn.proj.bias`, shape.lin);
}

/**
 * The checkpoint's Conv3d patch-embedding weight `[W, C, T, P, P]` seen as the `[W, C·T·P·P]` matrix
 * the graph multiplies by (same memory order as the processor's row flattening).
 */
export function withFlatPatchEmbed(weights: WeightSource): WeightSource {
  return {
    has: (name) => weights.has(name),
    shape: (name) => {
      const shape = weights.shape(name);
      if (name !== PATCH_EMBED_WEIGHT) return shape;
      if (shape.length !== 5) throw new InvalidModelError(`${PATCH_EMBED_WEIGHT} must be 5-D [W, C, T, P, P], got [${shape.join(', ')}]`);
      return [shape[0], shape[1] * shape[2] * shape[3] * shape[4]];
    },
    float32: (name) => weights.float32(name),
  };
}
