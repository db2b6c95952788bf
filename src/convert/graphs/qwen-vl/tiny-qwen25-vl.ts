import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundledTokenizerDir } from '../../bundled-assets.js';
import { type SafetensorsFileTensor, writeSafetensorsFile } from '../../writers/safetensors-file-writer.js';
import { type ShapedTensor, vlmTensorShapes } from './qwen25-vl-shapes.js';

/**
 * Tiny Qwen2.5-VL numbers (sizes after diffusers' `test_qwenimage_edit_plus.py`; untied lm_head like the 7B). Every constant that is not
 * a width or depth stays real: vocabulary 152064, special ids, patch 14, window 112, merge 2.
 */
export const TINY_QWEN25_VL_CONFIG = {
  architectures: ['Qwen2_5_VLForConditionalGeneration'],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  vision_start_token_id: 151652,
  vision_end_token_id: 151653,
  vision_token_id: 151654,
  image_token_id: 151655,
  video_token_id: 151656,
  hidden_act: 'silu',
  hidden_size: 32,
  initializer_range: 0.02,
  intermediate_size: 64,
  max_position_embeddings: 128000,
  max_window_layers: 28,
  model_type: 'qwen2_5_vl',
  num_attention_heads: 4,
  num_hidden_layers: 2,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  transformers_version: '4.41.2',
  use_cache: true,
  use_sliding_window: false,
  vision_config: {
    depth: 4,
    hidden_act: 'silu',
    hidden_size: 32,
    intermediate_size: 48,
    num_heads: 2,
    in_chans: 3,
    out_hidden_size: 32,
    patch_size: 14,
    spatial_merge_size: 2,
    spatial_patch_size: 14,
    window_size: 112,
    fullatt_block_indexes: [1, 3],
    tokens_per_second: 2,
    temporal_patch_size: 2,
  },
  rope_scaling: { type: 'mrope', mrope_section: [1, 1, 2] },
  vocab_size: 152064,
};

const GENERATION_CONFIG = {
  bos_token_id: 151643,
  pad_token_id: 151643,
  do_sample: true,
  eos_token_id: [151645, 151643],
  repetition_penalty: 1.05,
  temperature: 0.1,
  top_p: 0.001,
  top_k: 1,
  transformers_version: '4.41.2',
};
const PREPROCESSOR_CONFIG = {
  min_pixels: 3136,
  max_pixels: 12845056,
  patch_size: 14,
  temporal_patch_size: 2,
  merge_size: 2,
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_std: [0.26862954, 0.26130258, 0.27577711],
  image_processor_type: 'Qwen2VLImageProcessor',
  processor_class: 'Qwen2_5_VLProcessor',
};

type Shape = readonly number[];

/** A tiny Qwen2.5-VL config in the published flat schema (the fields writeTinyQwen25Vl reads). */
export interface TinyQwen25VlConfig {
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
  };
}

/**
 * A seeded random Qwen2.5-VL folder in the published layout (shared by the MetaQuery and UniPic-3
 * make-tiny): flat config.json, generation/preprocessor configs, the real tokenizer with the
 * Qwen2.5-VL chat template, two bf16 shards + index (untied lm_head like the 7B).
 */
export async function writeTinyQwen25Vl(vlmDir: string, config: TinyQwen25VlConfig, chatTemplate: string, random: () => number): Promise<void> {
  await mkdir(vlmDir, { recursive: true });
  const { llm, vision, lmHead } = vlmTensorShapes(config);
  const shards: [string, ShapedTensor[]][] = [
    ['model-00001-of-00002.safetensors', llm],
    ['model-00002-of-00002.safetensors', [...vision, lmHead]],
  ];
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  for (const [file, tensors] of shards) {
    await writeSafetensorsFile(
      join(vlmDir, file),
      tensors.map(([name, shape]) => bf16Tensor(name, shape, random)),
      { format: 'pt' },
    );
    for (const [name, shape] of tensors) {
      weightMap[name] = file;
      totalSize += 2 * shape.reduce((a, b) => a * b, 1);
    }
  }
  await writeJson(join(vlmDir, 'model.safetensors.index.json'), { metadata: { total_size: totalSize }, weight_map: weightMap });
  await writeJson(join(vlmDir, 'config.json'), config);
  await writeJson(join(vlmDir, 'generation_config.json'), GENERATION_CONFIG);
  await writeJson(join(vlmDir, 'preprocessor_config.json'), PREPROCESSOR_CONFIG);
  await writeJson(join(vlmDir, 'chat_template.json'), { chat_template: chatTemplate });
  const tokenizerDir = bundledTokenizerDir();
  for (const f of ['vocab.json', 'merges.txt']) await copyFile(join(tokenizerDir, f), join(vlmDir, f));
  const tokenizerConfig = JSON.parse(await readFile(join(tokenizerDir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  await writeJson(join(vlmDir, 'tokenizer_config.json'), { ...tokenizerConfig, chat_template: chatTemplate, model_max_length: 131072 });
}

/** Weights ~ U(±1/√fan_in); norms ~ 1 ± 0.1; biases ± 0.1; embeddings and queries ± 1 — O(1) activations. */
export function bf16Tensor(name: string, shape: Shape, random: () => number): SafetensorsFileTensor {
  const count = shape.reduce((a, b) => a * b, 1);
  const isNorm = /norm|ln_q/.test(name) && name.endsWith('weight');
  const scale = name.endsWith('bias') ? 0.1 : isNorm ? 0.1 : /embed_tokens|meta_queries|lm_head/.test(name) ? 1 : 1 / Math.sqrt(count / shape[0]);
  const out = new Uint16Array(count);
  const bits = new Uint32Array(1);
  const view = new Float32Array(bits.buffer);
  for (let i = 0; i < count; i++) {
    view[0] = (isNorm ? 1 : 0) + (random() * 2 - 1) * scale;
    // Round to nearest even into bfloat16.
    out[i] = (bits[0] + 0x7fff + ((bits[0] >>> 16) & 1)) >>> 16;
  }
  return { name, dtype: 'bfloat16', shape: [...shape], data: new Uint8Array(out.buffer) };
}

export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}
