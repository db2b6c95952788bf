import { silu, geluTanh } from '../../../../convert/graphs/layers/activations.js';
import { layerNorm } from '../../../../convert/graphs/layers/layer-norm.js';
import { linear } from '../../../../convert/graphs/layers/linear.js';
import { rmsNorm } from '../../../../convert/graphs/layers/rms-norm.js';
import type { GraphContext } from '../../../../convert/graphs/weights.js';
import { applyInterleavedRope } from './interleaved-rope.js';
import type { QwenTransformerConfig } from './qwen-transformer-config.js';

export type JointAttention = 'standard' | 'fused';

const NORM_EPSILON = 1e-6;

export interface StreamTables {
  readonly cos: string;
  readonly sin: string;
}

interface Modulation {
  shift1: string;
  scale1: string;
  gate1: string;
  shift2: string;
  scale2: string;
  gate2: string;
}

/** `<stream>_mod` = SiLU → Linear(D, 6D) on temb `[B, D]`: the block's modulation parameters `[B, 6D]`. */
export function modulationParameters(ctx: GraphContext, temb: string, prefix: string): string {
  return linear(ctx, silu(ctx.builder, temb), `${prefix}.1.weight`, `${prefix}.1.bias`);
}

/** `[B, 6D]` split (shift, scale, gate) × 2 as `[B, 1, D]`. */
function modulation(ctx: GraphContext, parameters: string, width: number): Modulation {
  const { builder } = ctx;
  const params = builder.op('Unsqueeze', [parameters, builder.constInt64([1])]);
  const parts = builder.node('Split', [params, builder.constInt64(new Array<number>(6).fill(width))], { outputCount: 6, attributes: { axis: 2 } });
  const [shift1, scale1, gate1, shift2, scale2, gate2] = parts;
  return { shift1, scale1, gate1, shift2, scale2, gate2 };
}

function modulate(ctx: GraphContext, x: string, width: number, shift: string, scale: string): string {
  const { builder } = ctx;
  const normed = layerNorm(ctx, x, width, NORM_EPSILON);
  const onePlus = builder.op('Add', [scale, builder.constFloat([1], [])]);
  return builder.op('Add', [builder.op('Mul', [normed, onePlus]), shift]);
}

/** Projection to heads `[B, S, H, Dh]`, RMS-normalised per head (q/k) when `norm` is given. */
function heads(ctx: GraphContext, x: string, projection: string, config: QwenTransformerConfig, norm?: string): string {
  const projected = linear(ctx, x, `${projection}.weight`, `${projection}.bias`);
  const split = ctx.builder.op('Reshape', [projected, ctx.builder.constInt64([0, 0, config.heads, config.headDim])]);
  return norm ? rmsNorm(ctx, split, `${norm}.weight`, NORM_EPSILON) : split;
}

/**
 * One diffusers `QwenImageTransformerBlock`: both streams modulated from temb, joint
 * attention over [text, image] with per-stream projections, qk RMS norm and interleaved RoPE,
 * gated residuals, per-stream tanh-GELU MLPs. Residual streams stay float32; half-precision
 * graphs clip them to ±65504 after the block as the fp16 reference does.
 */
export function qwenTransformerBlock(
  ctx: GraphContext,
  image: string,
  text: string,
  /** `[1, 6D]` per stream: `modulationParameters` of temb, or inputs precomputed for a schedule. */
  modulationInputs: { image: string; text: string },
  tables: { image: StreamTables; text: StreamTables },
  prefix: string,
  config: QwenTransformerConfig,
  attention: JointAttention = 'standard',
): { image: string; text: string } {
  const { builder } = ctx;
  const width = config.heads * config.headDim;
  const imageMod = modulation(ctx, modulationInputs.image, width);
  const textMod = modulation(ctx, modulationInputs.text, width);
  const imageIn = modulate(ctx, image, width, imageMod.shift1, imageMod.scale1);
  const textIn = modulate(ctx, text, width, textMod.shift1, textMod.scale1);

  const a = `${prefix}.attn`;
  const rope = (x: string, table: StreamTables): string => applyInterleavedRope(ctx, x, table.cos, table.sin, config.heads, config.headDim);
  const query = builder.op(
    'Concat',
    [
      rope(heads(ctx, textIn, `${a}.add_q_proj`, config, `${a}.norm_added_q`), tables.text),
      rope(heads(ctx, imageIn, `${a}.to_q`, config, `${a}.norm_q`), tables.image),
    ],
    { axis: 1 },
  );
  const key = builder.op(
    'Concat',
    [
      rope(heads(ctx, textIn, `${a}.add_k_proj`, config, `${a}.norm_added_k`), tables.text),
      rope(heads(ctx, imageIn, `${a}.to_k`, config, `${a}.norm_k`), tables.image),
    ],
    { axis: 1 },
  );
  const value = builder.op('Concat', [heads(ctx, textIn, `${a}.add_v_proj`, config), heads(ctx, imageIn, `${a}.to_v`, config)], { axis: 1 });
  const joint = jointAttention(ctx, query, key, value, config, attention); // [B, S, D]

  const textLength = builder.op('Shape', [text], { start: 1, end: 2 });
  const [textOut, imageOut] = builder.node('Split', [joint, builder.op('Concat', [textLength, builder.op('Shape', [image], { start: 1, end: 2 })], { axis: 0 })], {
    outputCount: 2,
    attributes: { axis: 1 },
  });
  let imageState = builder.op('Add', [image, builder.op('Mul', [imageMod.gate1, linear(ctx, imageOut, `${a}.to_out.0.weight`, `${a}.to_out.0.bias`)])]);
  let textState = builder.op('Add', [text, builder.op('Mul', [textMod.gate1, linear(ctx, textOut, `${a}.to_add_out.weight`, `${a}.to_add_out.bias`)])]);

  const mlp = (x: string, name: string): string => {
    const hidden = geluTanh(builder, linear(ctx, x, `${prefix}.${name}.net.0.proj.weight`, `${prefix}.${name}.net.0.proj.bias`));
    return linear(ctx, hidden, `${prefix}.${name}.net.2.weight`, `${prefix}.${name}.net.2.bias`);
  };
  imageState = builder.op('Add', [
    imageState,
    builder.op('Mul', [imageMod.gate2, mlp(modulate(ctx, imageState, width, imageMod.shift2, imageMod.scale2), 'img_mlp')]),
  ]);
  textState = builder.op('Add', [textState, builder.op('Mul', [textMod.gate2, mlp(modulate(ctx, textState, width, textMod.shift2, textMod.scale2), 'txt_mlp')])]);
  if (ctx.dtype === 'fp16' || ctx.dtype === 'q4f16') {
    const clip = (x: string): string => builder.op('Clip', [x, builder.constFloat([-65504], []), builder.constFloat([65504], [])]);
    return { image: clip(imageState), text: clip(textState) };
  }
  return { image: imageState, text: textState };
}

/** Non-causal joint attention, no mask (diffusers 0.36, the UniPic-3 pin, ignores `encoder_hidden_states_mask`), scale 1/√Dh. */
function jointAttention(ctx: GraphContext, query: string, key: string, value: string, config: QwenTransformerConfig, attention: JointAttention): string {
  const { builder } = ctx;
  const width = config.heads * config.headDim;
  const flat = (x: string): string => builder.op('Reshape', [x, builder.constInt64([0, 0, width])]);
  if (attention === 'fused') {
    return builder.op('MultiHeadAttention', [flat(query), flat(key), flat(value)], { num_heads: config.heads }, 'com.microsoft');
  }
  const headsFirst = (x: string): string => builder.op('Transpose', [x], { perm: [0, 2, 1, 3] });
  const keyT = builder.op('Transpose', [key], { perm: [0, 2, 3, 1] });
  const scores = builder.op('Mul', [builder.op('MatMul', [headsFirst(query), keyT]), builder.constFloat([config.headDim ** -0.5], [])]);
  const attended = builder.op('MatMul', [builder.op('Softmax', [scores], { axis: -1 }), headsFirst(value)]);
  return flat(builder.op('Transpose', [attended], { perm: [0, 2, 1, 3] }));
}
