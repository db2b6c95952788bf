import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeTinySd3Diffusion } from '../../../../convert/sd3-diffusion/tiny-diffusion.js';
import { bf16Tensor, mulberry32, TINY_QWEN25_VL_CONFIG, writeJson, writeTinyQwen25Vl } from '../../../../convert/graphs/qwen-vl/tiny-qwen25-vl.js';
import { writeSafetensorsFile } from '../../../../convert/writers/safetensors-file-writer.js';

import { QWEN25_VL_CHAT_TEMPLATE } from '../../../../core/qwen-vl/qwen25-vl-chat-template.js';
import { conditionerTensorShapes } from '../checkpoint-shapes.js';
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
 * tokenizer with the Qwen2.5-VL chat template, two bf16 shards + index), and the tiny SD3.5M-Kontext
 * `transformer/`, `vae/` (bf16) and `scheduler/` of the tiny Kontext model, whose text stream takes the
 * conditioner's widths (joint 32, pooled 24).
 */
export async function makeTinyMetaquery(directory: string, options: { seed?: number } = {}): Promise<void> {
  const random = mulberry32(options.seed ?? 0);
  const vlmDir = join(directory, VLM_FOLDER);
  const condDir = join(directory, 'conditioner');
  await mkdir(vlmDir, { recursive: true });
  await mkdir(condDir, { recursive: true });

  await writeTinyQwen25Vl(vlmDir, TINY_QWEN25_VL_CONFIG, QWEN25_VL_CHAT_TEMPLATE, random);

  const cond = conditionerTensorShapes(TINY_CONDITIONER_CONFIG);
  await writeSafetensorsFile(
    join(condDir, 'diffusion_pytorch_model.safetensors'),
    cond.map(([name, shape]) => bf16Tensor(name, shape, random)),
    { format: 'pt' },
  );
  await writeJson(join(condDir, 'config.json'), TINY_CONDITIONER_CONFIG);
  await writeTinySd3Diffusion(directory, (options.seed ?? 0) + 20261206);
}
