import type { ConditionerConfig } from './conditioner-config.js';
import type { VlmConfig } from '../../../convert/graphs/qwen-vl/vlm-config.js';
import { checkKeys, planVlmKeys, type VlmKeyPlan } from '../../../convert/graphs/qwen-vl/vlm-key-plan.js';

/** Which graph each checkpoint key feeds; every key of both folders lands in exactly one. */
export interface MetaqueryKeyPlan extends VlmKeyPlan {
  readonly conditioner: readonly string[];
  /** `meta_queries`, written as a table file rather than a graph. */
  readonly metaQueries: string;
}

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

/** The Qwen2.5-VL plan (shared with UniPic-3) plus the conditioner's keys, each folder checked exactly. */
export function planMetaqueryKeys(vlmKeys: readonly string[], conditionerKeys: readonly string[], vlm: VlmConfig, conditioner: ConditionerConfig): MetaqueryKeyPlan {
  const { vision, llm, lmHead } = planVlmKeys(vlmKeys, vlm);
  const cond = ['projector_1.bias', 'projector_1.weight', 'projector_2.bias', 'projector_2.weight', 'projector_3.bias', 'projector_3.weight'];
  for (let l = 0; l < conditioner.numLayers; l++) for (const k of CONNECTOR_LAYER) cond.push(`connector.layers.${l}.${k}`);
  checkKeys('conditioner', conditionerKeys, [...cond, 'meta_queries']);
  return { vision, llm, lmHead, conditioner: cond, metaQueries: 'meta_queries' };
}
