import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { bf16Tensor, mulberry32, TINY_QWEN25_VL_CONFIG, writeJson, writeTinyQwen25Vl } from '../../../../convert/graphs/qwen-vl/tiny-qwen25-vl.js';
import { writeSafetensorsFile } from '../../../../convert/writers/safetensors-file-writer.js';

type Shape = readonly number[];
import { QWEN25_VL_CHAT_TEMPLATE } from '../../../../core/qwen-vl/qwen25-vl-chat-template.js';
import { VLM_FOLDER } from '../convert-metaquery.js';

export const TINY_CONDITIONER_CONFIG = {
  _class_name: 'StableDiffusion3Conditioner',
  _diffusers_version: '0.35.0.dev0',
  connector_config: { _attn_implementation: 'flash_attention_2', hidden_size: 16, intermediate_size: 32, num_attention_heads: 2, num_hidden_layers: 2 },
  joint_attention_dim: 32,
  llm_hidden_size: 32,
  num_queries: 8,
  pooled_projection_dim: 24,
};

/**
 * `unipic make-tiny <dir> --family unipic2-metaquery`: a seeded random checkpoint of this family in
 * its published layouts — `conditioner/` (config.json + diffusion_pytorch_model.safetensors, bf16)
 * and `Qwen2.5-VL-7B-Instruct/` (flat config.json, generation/preprocessor configs, the real
 * tokenizer with the Qwen2.5-VL chat template, two bf16 shards + index). The Kontext transformer,
 * VAE and scheduler belong to the Kontext family and are not written here.
 */
export async function makeTinyMetaquery(directory: string, options: { seed?: number } = {}): Promise<void> {
  const random = mulberry32(options.seed ?? 0);
  const vlmDir = join(directory, VLM_FOLDER);
  const condDir = join(directory, 'conditioner');
  await mkdir(vlmDir, { recursive: true });
  await mkdir(condDir, { recursive: true });

  await writeTinyQwen25Vl(vlmDir, TINY_QWEN25_VL_CONFIG, QWEN25_VL_CHAT_TEMPLATE, random);

  const cc = TINY_CONDITIONER_CONFIG;
  const cw = cc.connector_config.hidden_size;
  const ci = cc.connector_config.intermediate_size;
  const cond: [string, Shape][] = [
    ['meta_queries', [cc.num_queries, cc.llm_hidden_size]],
    ['projector_1.weight', [cw, cc.llm_hidden_size]],
    ['projector_1.bias', [cw]],
    ['projector_2.weight', [cc.pooled_projection_dim, cw]],
    ['projector_2.bias', [cc.pooled_projection_dim]],
    ['projector_3.weight', [cc.joint_attention_dim, cw]],
    ['projector_3.bias', [cc.joint_attention_dim]],
  ];
  for (let l = 0; l < cc.connector_config.num_hidden_layers; l++) {
    const p = `connector.layers.${l}`;
    for (const n of ['layer_norm1', 'layer_norm2']) cond.push([`${p}.${n}.weight`, [cw]], [`${p}.${n}.bias`, [cw]]);
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) cond.push([`${p}.self_attn.${n}.weight`, [cw, cw]], [`${p}.self_attn.${n}.bias`, [cw]]);
    cond.push([`${p}.mlp.fc1.weight`, [ci, cw]], [`${p}.mlp.fc1.bias`, [ci]], [`${p}.mlp.fc2.weight`, [cw, ci]], [`${p}.mlp.fc2.bias`, [cw]]);
  }
  await writeSafetensorsFile(
    join(condDir, 'diffusion_pytorch_model.safetensors'),
    cond.map(([name, shape]) => bf16Tensor(name, shape, random)),
    { format: 'pt' },
  );
  await writeJson(join(condDir, 'config.json'), TINY_CONDITIONER_CONFIG);
}
