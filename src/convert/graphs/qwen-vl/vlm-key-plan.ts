import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { VlmConfig } from './vlm-config.js';

/** The Qwen2.5-VL checkpoint keys each graph reads (published `visual.*` / `model.*` names). */
export interface VlmKeyPlan {
  readonly vision: readonly string[];
  /** `model.*` language-model keys (embed, layers, final norm). */
  readonly llm: readonly string[];
  /** `lm_head.weight`, or none when the embedding is tied. */
  readonly lmHead: readonly string[];
}

const VISION_BLOCK = [
  'attn.proj.bias',
  'attn.proj.weight',
  'attn.qkv.bias',
  'attn.qkv.weight',
  'mlp.down_proj.bias',
  'mlp.down_proj.weight',
  'mlp.gate_proj.bias',
  'mlp.gate_proj.weight',
  'mlp.up_proj.bias',
  'mlp.up_proj.weight',
  'norm1.weight',
  'norm2.weight',
];
const LLM_LAYER = [
  'input_layernorm.weight',
  'mlp.down_proj.weight',
  'mlp.gate_proj.weight',
  'mlp.up_proj.weight',
  'post_attention_layernorm.weight',
  'self_attn.k_proj.bias',
  'self_attn.k_proj.weight',
  'self_attn.o_proj.weight',
  'self_attn.q_proj.bias',
  'self_attn.q_proj.weight',
  'self_attn.v_proj.bias',
  'self_attn.v_proj.weight',
];
/**
 * The keys the config says must exist, checked against the keys the folder holds: a missing key or
 * an unexpected one (an architecture this converter does not know) is refused with the full list.
 * The only optional key is `lm_head.weight` (absent when the embedding is tied).
 */
export function planVlmKeys(vlmKeys: readonly string[], vlm: VlmConfig): VlmKeyPlan {
  const vision = [
    'visual.patch_embed.proj.weight',
    'visual.merger.ln_q.weight',
    'visual.merger.mlp.0.bias',
    'visual.merger.mlp.0.weight',
    'visual.merger.mlp.2.bias',
    'visual.merger.mlp.2.weight',
  ];
  for (let b = 0; b < vlm.vision.depth; b++) for (const k of VISION_BLOCK) vision.push(`visual.blocks.${b}.${k}`);
  const llm = ['model.embed_tokens.weight', 'model.norm.weight'];
  for (let l = 0; l < vlm.llm.numLayers; l++) for (const k of LLM_LAYER) llm.push(`model.layers.${l}.${k}`);
  const lmHead = vlmKeys.includes('lm_head.weight') ? ['lm_head.weight'] : [];
  if (!lmHead.length && !vlm.tieWordEmbeddings)
    throw new InvalidModelError('the Qwen2.5-VL checkpoint has no lm_head.weight and its config does not tie the embeddings');
  checkKeys('Qwen2.5-VL', vlmKeys, [...vision, ...llm, ...lmHead]);
  return { vision, llm, lmHead };
}

/** Refuses a folder whose keys are not exactly `expected` (with up to 20 of each difference). */
export function checkKeys(what: string, present: readonly string[], expected: readonly string[]): void {
  const have = new Set(present);
  const want = new Set(expected);
  const missing = expected.filter((k) => !have.has(k));
  const unknown = present.filter((k) => !want.has(k));
  if (missing.length || unknown.length) {
    throw new InvalidModelError(`${what} checkpoint keys do not match its config: ${missing.length} missing, ${unknown.length} unexpected`, {
      details: { missing: missing.slice(0, 20), unexpected: unknown.slice(0, 20) },
    });
  }
}
