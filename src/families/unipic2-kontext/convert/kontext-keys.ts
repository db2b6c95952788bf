import { accountKeys, type ExpectedShapes, type KeyAccount, linearShapes, vectorPair } from '../../../convert/expected-shapes.js';
import type { TensorDescriptor } from '../../../convert/readers/tensor-descriptor.js';
import { diffusionIgnoredReason, sd3DiffusionShapes } from '../../../convert/sd3-diffusion/diffusion-shapes.js';
import type { ClipTextConfig } from './clip-text-graph.js';
import type { KontextCheckpointConfig } from './diffusers-configs.js';

export type KontextKeyAccount = KeyAccount;

function clipShapes(out: ExpectedShapes, prefix: string, c: ClipTextConfig, vocab: number): void {
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

/** Every tensor the graphs need, with its shape, from the configs (standard diffusers / transformers state-dict names). */
export function expectedShapes(s: KontextCheckpointConfig, vocab: { clipL: number; clipG: number; t5: number }): ExpectedShapes {
  const out: ExpectedShapes = new Map();
  sd3DiffusionShapes(out, s);
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
  const diffusion = diffusionIgnoredReason(key);
  if (diffusion) return diffusion;
  if (/^text_encoder(_2)?\.text_model\.embeddings\.position_ids$/.test(key)) return 'position index buffer (0..76), implied by the graph';
  if (key === 'text_encoder_3.encoder.embed_tokens.weight' && present.has('text_encoder_3.shared.weight')) return 'tied to text_encoder_3.shared.weight';
  return undefined;
}

/**
 * Sorts every key into required (shape and dtype checked) or knowingly ignored; anything else is
 * refused, as is a missing, misshapen or non-float required tensor — all before anything is written.
 */
export function accountKontextKeys(structure: KontextCheckpointConfig, tensors: ReadonlyMap<string, TensorDescriptor>): KontextKeyAccount {
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
  return accountKeys(expected, tensors, (key) => ignoredReason(key, tensors));
}
