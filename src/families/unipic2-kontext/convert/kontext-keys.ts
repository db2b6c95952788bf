import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { isFloatDtype, type TensorDtype } from '../../../formats/tensor-dtype.js';
import type { ClipTextConfig } from './clip-text-graph.js';
import type { KontextStructure } from './diffusers-configs.js';
import type { TensorDescriptor } from '../../../convert/readers/tensor-descriptor.js';

export interface KontextKeyAccount {
  /** Keys the graphs are built from. */
  readonly required: readonly string[];
  readonly ignored: readonly { key: string; why: string }[];
}

type Shapes = Map<string, readonly number[]>;

const READABLE: ReadonlySet<TensorDtype> = new Set<TensorDtype>(['float32', 'float16', 'bfloat16']);

function linearShapes(out: Shapes, name: string, rows: number, columns: number, bias = true): void {
  out.set(`${name}.weight`, [rows, columns]);
  if (bias) out.set(`${name}.bias`, [rows]);
}

function vectorPair(out: Shapes, name: string, width: number): void {
  out.set(`${name}.weight`, [width]);
  out.set(`${name}.bias`, [width]);
}

function clipShapes(out: Shapes, prefix: string, c: ClipTextConfig, vocab: number): void {
  const D = c.hiddenSize;
  const m = `${prefix}text_model.`;
  out.set(`${m}embeddings.token_embedding.weight`, [vocab, D]);
  out.set(`${m}embeddings.position_embedding.weight`, [c.maxPositions, D]);
  for (let i = 0; i < c.layers; i++) {
    const l = `${m}encoder.layers.${i}.`;
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) linearShapes(out, `${l}self_attn.${p}`, D, D);
    vectorPair(out, `${l}layer_norm1`, D);
    vectorPair(out, `${l}layer_norm2`, D);
    linearShapes(out, `${l}mlp.fc1`, c.intermediateSize, D);
    linearShapes(out, `${l}mlp.fc2`, D, c.intermediateSize);
  }
  vectorPair(out, `${m}final_layer_norm`, D);
  out.set(`${prefix}text_projection.weight`, [c.projectionDim, D]);
}

function conv(out: Shapes, name: string, cout: number, cin: number, k: number): void {
  out.set(`${name}.weight`, [cout, cin, k, k]);
  out.set(`${name}.bias`, [cout]);
}

function resnet(out: Shapes, name: string, cin: number, cout: number): void {
  vectorPair(out, `${name}.norm1`, cin);
  conv(out, `${name}.conv1`, cout, cin, 3);
  vectorPair(out, `${name}.norm2`, cout);
  conv(out, `${name}.conv2`, cout, cout, 3);
  if (cin !== cout) conv(out, `${name}.conv_shortcut`, cout, cin, 1);
}

function mid(out: Shapes, name: string, c: number, attention: boolean): void {
  resnet(out, `${name}.resnets.0`, c, c);
  if (attention) {
    vectorPair(out, `${name}.attentions.0.group_norm`, c);
    for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) linearShapes(out, `${name}.attentions.0.${p}`, c, c);
  }
  resnet(out, `${name}.resnets.1`, c, c);
}

/** Every tensor the graphs need, with its shape, from the configs (spec §2.2–2.4, §3.4). */
export function expectedShapes(s: KontextStructure, vocab: { clipL: number; clipG: number; t5: number }): Shapes {
  const out: Shapes = new Map();
  const t = s.transformer;
  const D = t.width;
  const T = 'transformer.';
  out.set(`${T}pos_embed.proj.weight`, [D, t.inChannels, t.patchSize, t.patchSize]);
  out.set(`${T}pos_embed.proj.bias`, [D]);
  linearShapes(out, `${T}time_text_embed.timestep_embedder.linear_1`, D, 256);
  linearShapes(out, `${T}time_text_embed.timestep_embedder.linear_2`, D, D);
  linearShapes(out, `${T}time_text_embed.text_embedder.linear_1`, D, t.pooledProjectionDim);
  linearShapes(out, `${T}time_text_embed.text_embedder.linear_2`, D, D);
  linearShapes(out, `${T}context_embedder`, D, t.jointAttentionDim);
  for (let i = 0; i < t.layers; i++) {
    const b = `${T}transformer_blocks.${i}.`;
    const dual = t.dualAttentionLayers.includes(i);
    const last = i === t.layers - 1;
    linearShapes(out, `${b}norm1.linear`, (dual ? 9 : 6) * D, D);
    linearShapes(out, `${b}norm1_context.linear`, (last ? 2 : 6) * D, D);
    const attn = [`to_q`, `to_k`, `to_v`, `add_q_proj`, `add_k_proj`, `add_v_proj`, `to_out.0`, ...(last ? [] : ['to_add_out'])];
    for (const p of attn) linearShapes(out, `${b}attn.${p}`, D, D);
    for (const n of ['norm_q', 'norm_k', 'norm_added_q', 'norm_added_k']) out.set(`${b}attn.${n}.weight`, [t.headDim]);
    if (dual) {
      for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) linearShapes(out, `${b}attn2.${p}`, D, D);
      for (const n of ['norm_q', 'norm_k']) out.set(`${b}attn2.${n}.weight`, [t.headDim]);
    }
    for (const ff of last ? ['ff'] : ['ff', 'ff_context']) {
      linearShapes(out, `${b}${ff}.net.0.proj`, 4 * D, D);
      linearShapes(out, `${b}${ff}.net.2`, D, 4 * D);
    }
  }
  linearShapes(out, `${T}norm_out.linear`, 2 * D, D);
  linearShapes(out, `${T}proj_out`, t.patchSize ** 2 * t.outChannels, D);

  const v = s.vae;
  const ch = v.blockOutChannels;
  const L = v.latentChannels;
  conv(out, 'vae.encoder.conv_in', ch[0], 3, 3);
  let c = ch[0];
  ch.forEach((cout, level) => {
    for (let j = 0; j < v.layersPerBlock; j++) {
      resnet(out, `vae.encoder.down_blocks.${level}.resnets.${j}`, c, cout);
      c = cout;
    }
    if (level !== ch.length - 1) conv(out, `vae.encoder.down_blocks.${level}.downsamplers.0.conv`, c, c, 3);
  });
  mid(out, 'vae.encoder.mid_block', c, v.midBlockAttention);
  vectorPair(out, 'vae.encoder.conv_norm_out', c);
  conv(out, 'vae.encoder.conv_out', 2 * L, c, 3);
  if (v.useQuantConv) conv(out, 'vae.quant_conv', 2 * L, 2 * L, 1);
  if (v.usePostQuantConv) conv(out, 'vae.post_quant_conv', L, L, 1);
  const reversed = [...ch].reverse();
  conv(out, 'vae.decoder.conv_in', reversed[0], L, 3);
  mid(out, 'vae.decoder.mid_block', reversed[0], v.midBlockAttention);
  c = reversed[0];
  reversed.forEach((cout, level) => {
    for (let j = 0; j <= v.layersPerBlock; j++) {
      resnet(out, `vae.decoder.up_blocks.${level}.resnets.${j}`, c, cout);
      c = cout;
    }
    if (level !== reversed.length - 1) conv(out, `vae.decoder.up_blocks.${level}.upsamplers.0.conv`, c, c, 3);
  });
  vectorPair(out, 'vae.decoder.conv_norm_out', c);
  conv(out, 'vae.decoder.conv_out', 3, c, 3);

  clipShapes(out, 'text_encoder.', s.clipL, vocab.clipL);
  clipShapes(out, 'text_encoder_2.', s.clipG, vocab.clipG);
  if (s.t5) {
    const f = s.t5;
    const P = 'text_encoder_3.';
    const inner = f.heads * f.dKv;
    out.set(`${P}shared.weight`, [vocab.t5, f.dModel]);
    for (let i = 0; i < f.layers; i++) {
      const b = `${P}encoder.block.${i}.layer.`;
      for (const p of ['q', 'k', 'v']) out.set(`${b}0.SelfAttention.${p}.weight`, [inner, f.dModel]);
      out.set(`${b}0.SelfAttention.o.weight`, [f.dModel, inner]);
      if (i === 0) out.set(`${b}0.SelfAttention.relative_attention_bias.weight`, [f.buckets, f.heads]);
      out.set(`${b}0.layer_norm.weight`, [f.dModel]);
      out.set(`${b}1.DenseReluDense.wi_0.weight`, [f.dFf, f.dModel]);
      out.set(`${b}1.DenseReluDense.wi_1.weight`, [f.dFf, f.dModel]);
      out.set(`${b}1.DenseReluDense.wo.weight`, [f.dModel, f.dFf]);
      out.set(`${b}1.layer_norm.weight`, [f.dModel]);
    }
    out.set(`${P}encoder.final_layer_norm.weight`, [f.dModel]);
  }
  return out;
}

/** Keys a published checkpoint carries that no graph reads, with the reason. */
function ignoredReason(key: string, present: ReadonlyMap<string, TensorDescriptor>): string | undefined {
  if (key === 'transformer.pos_embed.pos_embed') return 'the 2-D sin-cos table; recomputed for each size at run time (checked against this tensor at conversion)';
  if (/^text_encoder(_2)?\.text_model\.embeddings\.position_ids$/.test(key)) return 'position index buffer (0..76), implied by the graph';
  if (key === 'text_encoder_3.encoder.embed_tokens.weight' && present.has('text_encoder_3.shared.weight')) return 'tied to text_encoder_3.shared.weight';
  return undefined;
}

/**
 * Sorts every key into required (shape and dtype checked) or knowingly ignored; anything else is
 * refused, as is a missing, misshapen or non-float required tensor — all before anything is written.
 */
export function accountKontextKeys(structure: KontextStructure, tensors: ReadonlyMap<string, TensorDescriptor>): KontextKeyAccount {
  const vocab = (name: string): number => tensors.get(name)?.shape[0] ?? 0;
  const t5Table = tensors.has('text_encoder_3.shared.weight') ? 'text_encoder_3.shared.weight' : 'text_encoder_3.encoder.embed_tokens.weight';
  const expected = expectedShapes(structure, {
    clipL: vocab('text_encoder.text_model.embeddings.token_embedding.weight'),
    clipG: vocab('text_encoder_2.text_model.embeddings.token_embedding.weight'),
    t5: vocab(t5Table),
  });
  if (t5Table !== 'text_encoder_3.shared.weight' && expected.has('text_encoder_3.shared.weight')) {
    expected.set(t5Table, expected.get('text_encoder_3.shared.weight')!);
    expected.delete('text_encoder_3.shared.weight');
  }
  const missing = [...expected.keys()].filter((k) => !tensors.has(k));
  const misshapen: { key: string; shape: readonly number[]; expected: readonly number[] }[] = [];
  const badDtype: { key: string; dtype: string }[] = [];
  const ignored: { key: string; why: string }[] = [];
  const unknown: string[] = [];
  for (const [key, tensor] of tensors) {
    const shape = expected.get(key);
    if (shape) {
      if (shape.join() !== tensor.shape.join()) misshapen.push({ key, shape: tensor.shape, expected: shape });
      if (!READABLE.has(tensor.dtype) || !isFloatDtype(tensor.dtype)) badDtype.push({ key, dtype: tensor.dtype });
      continue;
    }
    const why = ignoredReason(key, tensors);
    if (why) ignored.push({ key, why });
    else unknown.push(key);
  }
  if (missing.length)
    throw new InvalidModelError(`the checkpoint lacks ${missing.length} required weights: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`, {
      details: { missing },
    });
  if (misshapen.length) {
    const first = misshapen[0];
    throw new InvalidModelError(
      `${misshapen.length} weights have unexpected shapes, e.g. ${first.key}: [${first.shape.join(', ')}] instead of [${first.expected.join(', ')}]`,
      { details: { misshapen } },
    );
  }
  if (badDtype.length) {
    throw new InvalidModelError(`${badDtype.length} weights are not bf16/fp16/fp32, e.g. ${badDtype[0].key}: ${badDtype[0].dtype}`, {
      details: { notFloat: badDtype },
    });
  }
  if (unknown.length) {
    throw new InvalidModelError(
      `the checkpoint has ${unknown.length} keys this converter does not know: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`,
      { details: { unknown } },
    );
  }
  return { required: [...expected.keys()], ignored };
}
