import type { ShapedTensor } from '../../../convert/graphs/qwen-vl/qwen25-vl-shapes.js';

/**
 * The tensors of the Skywork `conditioner/` by name and shape, from its `config.json`: make-tiny
 * writes them at tiny sizes, bench/mq-full-size.ts streams them at the real ones (the Qwen2.5-VL
 * side: src/convert/graphs/qwen-vl/qwen25-vl-shapes.ts).
 */

export interface ConditionerShapeConfig {
  readonly connector_config: { readonly hidden_size: number; readonly intermediate_size: number; readonly num_hidden_layers: number };
  readonly joint_attention_dim: number;
  readonly llm_hidden_size: number;
  readonly num_queries: number;
  readonly pooled_projection_dim: number;
}

/** `conditioner/diffusion_pytorch_model.safetensors`: meta-queries, three projectors, the connector layers. */
export function conditionerTensorShapes(c: ConditionerShapeConfig): ShapedTensor[] {
  const cw = c.connector_config.hidden_size;
  const ci = c.connector_config.intermediate_size;
  const cond: ShapedTensor[] = [
    ['meta_queries', [c.num_queries, c.llm_hidden_size]],
    ['projector_1.weight', [cw, c.llm_hidden_size]],
    ['projector_1.bias', [cw]],
    ['projector_2.weight', [c.pooled_projection_dim, cw]],
    ['projector_2.bias', [c.pooled_projection_dim]],
    ['projector_3.weight', [c.joint_attention_dim, cw]],
    ['projector_3.bias', [c.joint_attention_dim]],
  ];
  for (let l = 0; l < c.connector_config.num_hidden_layers; l++) {
    const p = `connector.layers.${l}`;
    for (const n of ['layer_norm1', 'layer_norm2']) cond.push([`${p}.${n}.weight`, [cw]], [`${p}.${n}.bias`, [cw]]);
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) cond.push([`${p}.self_attn.${n}.weight`, [cw, cw]], [`${p}.self_attn.${n}.bias`, [cw]]);
    cond.push([`${p}.mlp.fc1.weight`, [ci, cw]], [`${p}.mlp.fc1.bias`, [ci]], [`${p}.mlp.fc2.weight`, [cw, ci]], [`${p}.mlp.fc2.bias`, [cw]]);
  }
  return cond;
}
