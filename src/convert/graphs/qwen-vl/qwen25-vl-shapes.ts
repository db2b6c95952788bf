/**
 * The tensors of a published Qwen2.5-VL checkpoint, by name and shape, from its `config.json`:
 * make-tiny writes them at tiny sizes (tiny-qwen25-vl.ts), bench/mq-full-size.ts streams them at the
 * 7B's.
 */

export type TensorShape = readonly number[];
export type ShapedTensor = readonly [name: string, shape: TensorShape];

/** The `config.json` fields the checkpoint's shapes follow from. */
export interface VlmShapeConfig {
  readonly hidden_size: number;
  readonly intermediate_size: number;
  readonly num_attention_heads: number;
  readonly num_hidden_layers: number;
  readonly num_key_value_heads: number;
  readonly vocab_size: number;
  readonly vision_config: {
    readonly depth: number;
    readonly hidden_size: number;
    readonly intermediate_size: number;
    readonly out_hidden_size: number;
    readonly patch_size: number;
    readonly temporal_patch_size: number;
    /** 2 in every published Qwen2.5-VL. */
    readonly spatial_merge_size?: number;
  };
}

/** `model.*` (language model), `visual.*` (vision tower and merger) and the untied `lm_head.weight`. */
export function vlmTensorShapes(c: VlmShapeConfig): { llm: ShapedTensor[]; vision: ShapedTensor[]; lmHead: ShapedTensor } {
  const H = c.hidden_size;
  const kv = (H / c.num_attention_heads) * c.num_key_value_heads;
  const llm: ShapedTensor[] = [
    ['model.embed_tokens.weight', [c.vocab_size, H]],
    ['model.norm.weight', [H]],
  ];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    llm.push(
      [`${p}.input_layernorm.weight`, [H]],
      [`${p}.post_attention_layernorm.weight`, [H]],
      [`${p}.self_attn.q_proj.weight`, [H, H]],
      [`${p}.self_attn.q_proj.bias`, [H]],
      [`${p}.self_attn.k_proj.weight`, [kv, H]],
      [`${p}.self_attn.k_proj.bias`, [kv]],
      [`${p}.self_attn.v_proj.weight`, [kv, H]],
      [`${p}.self_attn.v_proj.bias`, [kv]],
      [`${p}.self_attn.o_proj.weight`, [H, H]],
      [`${p}.mlp.gate_proj.weight`, [c.intermediate_size, H]],
      [`${p}.mlp.up_proj.weight`, [c.intermediate_size, H]],
      [`${p}.mlp.down_proj.weight`, [H, c.intermediate_size]],
    );
  }
  const v = c.vision_config;
  const W = v.hidden_size;
  const vision: ShapedTensor[] = [['visual.patch_embed.proj.weight', [W, 3, v.temporal_patch_size, v.patch_size, v.patch_size]]];
  for (let b = 0; b < v.depth; b++) {
    const p = `visual.blocks.${b}`;
    vision.push(
      [`${p}.norm1.weight`, [W]],
      [`${p}.norm2.weight`, [W]],
      [`${p}.attn.qkv.weight`, [3 * W, W]],
      [`${p}.attn.qkv.bias`, [3 * W]],
      [`${p}.attn.proj.weight`, [W, W]],
      [`${p}.attn.proj.bias`, [W]],
      [`${p}.mlp.gate_proj.weight`, [v.intermediate_size, W]],
      [`${p}.mlp.gate_proj.bias`, [v.intermediate_size]],
      [`${p}.mlp.up_proj.weight`, [v.intermediate_size, W]],
      [`${p}.mlp.up_proj.bias`, [v.intermediate_size]],
      [`${p}.mlp.down_proj.weight`, [W, v.intermediate_size]],
      [`${p}.mlp.down_proj.bias`, [W]],
    );
  }
  const M = W * (v.spatial_merge_size ?? 2) ** 2;
  vision.push(
    ['visual.merger.ln_q.weight', [W]],
    ['visual.merger.mlp.0.weight', [M, M]],
    ['visual.merger.mlp.0.bias', [M]],
    ['visual.merger.mlp.2.weight', [v.out_hidden_size, M]],
    ['visual.merger.mlp.2.bias', [v.out_hidden_size]],
  );
  return { llm, vision, lmHead: ['lm_head.weight', [c.vocab_size, H]] };
}
