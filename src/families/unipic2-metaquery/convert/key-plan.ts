import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { ConditionerConfig } from './conditioner-config.js';
import type { VlmConfig } from '../../../convert/graphs/qwen-vl/vlm-config.js';

/** Which graph each checkpoint key feeds; every key of both folders lands in exactly one. */
export interface MetaqueryKeyPlan {
  readonly vision: readonly string[];
  /** `model.*` language-model keys (embed, layers, final norm). */
  readonly llm: readonly string[];
  /** `lm_head.weight`, or none when the embedding is tied. */
  readonly lmHead: readonly string[];
  readonly conditioner: readonly string[];
  /** `meta_queries`, written as a table file rather than a graph. */
  readonly metaQueries: string;
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
const CONNECTOR_LAYER = [
  'layer_norm1.bias',
  'layer_norm1.weight',
  'layer_norm2.bias',
  'layer_norm2.weight',
  'mlp.fc1.bias',
  'mlp.fc1.weight',
  'mlp.fc2.bias',
  'mlp.fc2.weight',
  'self_attn.k_proj.bias',
  'self_attn.k_proj.weight',
  'self_attn.out_proj.bias',
  'self_attn.out_proj.weight',
  'self_attn.q_proj.bias',
  'self_attn.q_proj.weight',
  'self_attn.v_proj.bias',
  'self_attn.v_proj.weight',
];

/**
 * The keys the configs say must exist, checked against the keys the folders hold: a missing key or
 * an unexpected one (an architecture this converter does not know) is refused with the full list.
 * The only optional key is `lm_head.weight` (absent when the embedding is tied).
 */
export function planMetaqueryKeys(vlmKeys: readonly string[], conditionerKeys: readonly string[], vlm: VlmConfig, conditioner: ConditionerConfig): MetaqueryKeyPlan {
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
  const cond = ['projector_1.bias', 'projector_1.weight', 'projector_2.bias', 'projector_2.weight', 'projector_3.bias', 'projector_3.weight'];
  for (let l = 0; l < conditioner.numLayers; l++) for (const k of CONNECTOR_LAYER) cond.push(`connector.layers.${l}.${k}`);
  check('Qwen2.5-VL', vlmKeys, [...vision, ...llm, ...lmHead]);
  check('conditioner', conditionerKeys, [...cond, 'meta_queries']);
  return { vision, llm, lmHead, conditioner: cond, metaQueries: 'meta_queries' };
}

function check(what: string, present: readonly string[], expected: readonly string[]): void {
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
