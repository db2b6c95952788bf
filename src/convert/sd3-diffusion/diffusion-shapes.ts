import { convShapes, type ExpectedShapes, linearShapes, vectorPair } from '../expected-shapes.js';
import type { Sd3DiffusionStructure } from './diffusion-configs.js';

export const POSITION_TABLE_KEY = 'transformer.pos_embed.pos_embed';

function resnet(out: ExpectedShapes, name: string, cin: number, cout: number): void {
  vectorPair(out, `${name}.norm1`, cin);
  convShapes(out, `${name}.conv1`, cout, cin, 3);
  vectorPair(out, `${name}.norm2`, cout);
  convShapes(out, `${name}.conv2`, cout, cout, 3);
  if (cin !== cout) convShapes(out, `${name}.conv_shortcut`, cout, cin, 1);
}

function mid(out: ExpectedShapes, name: string, c: number, attention: boolean): void {
  resnet(out, `${name}.resnets.0`, c, c);
  if (attention) {
    vectorPair(out, `${name}.attentions.0.group_norm`, c);
    for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) linearShapes(out, `${name}.attentions.0.${p}`, c, c);
  }
  resnet(out, `${name}.resnets.1`, c, c);
}

/** Every `transformer.*` and `vae.*` tensor the diffusion graphs need, with its shape (standard diffusers SD3 state-dict names). */
export function sd3DiffusionShapes(out: ExpectedShapes, s: Sd3DiffusionStructure): void {
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
  convShapes(out, 'vae.encoder.conv_in', ch[0], 3, 3);
  let c = ch[0];
  ch.forEach((cout, level) => {
    for (let j = 0; j < v.layersPerBlock; j++) {
      resnet(out, `vae.encoder.down_blocks.${level}.resnets.${j}`, c, cout);
      c = cout;
    }
    if (level !== ch.length - 1) convShapes(out, `vae.encoder.down_blocks.${level}.downsamplers.0.conv`, c, c, 3);
  });
  mid(out, 'vae.encoder.mid_block', c, v.midBlockAttention);
  vectorPair(out, 'vae.encoder.conv_norm_out', c);
  convShapes(out, 'vae.encoder.conv_out', 2 * L, c, 3);
  if (v.useQuantConv) convShapes(out, 'vae.quant_conv', 2 * L, 2 * L, 1);
  if (v.usePostQuantConv) convShapes(out, 'vae.post_quant_conv', L, L, 1);
  const reversed = [...ch].reverse();
  convShapes(out, 'vae.decoder.conv_in', reversed[0], L, 3);
  mid(out, 'vae.decoder.mid_block', reversed[0], v.midBlockAttention);
  c = reversed[0];
  reversed.forEach((cout, level) => {
    for (let j = 0; j <= v.layersPerBlock; j++) {
      resnet(out, `vae.decoder.up_blocks.${level}.resnets.${j}`, c, cout);
      c = cout;
    }
    if (level !== reversed.length - 1) convShapes(out, `vae.decoder.up_blocks.${level}.upsamplers.0.conv`, c, c, 3);
  });
  vectorPair(out, 'vae.decoder.conv_norm_out', c);
  convShapes(out, 'vae.decoder.conv_out', 3, c, 3);
}

/** Diffusion keys a published checkpoint carries that no graph reads, with the reason. */
export function diffusionIgnoredReason(key: string): string | undefined {
  if (key === POSITION_TABLE_KEY) return 'the 2-D sin-cos table; recomputed for each size at run time (checked against this tensor at conversion)';
  return undefined;
}
