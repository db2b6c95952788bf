import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensorsFile } from '../src/convert/writers/safetensors-file-writer.js';
import { type ShapedTensor, type TensorShape, vlmTensorShapes } from '../src/convert/graphs/qwen-vl/qwen25-vl-shapes.js';
import { TINY_QWEN25_VL_CONFIG } from '../src/convert/graphs/qwen-vl/tiny-qwen25-vl.js';
import { conditionerTensorShapes } from '../src/families/unipic2-metaquery/convert/checkpoint-shapes.js';
import { VLM_FOLDER } from '../src/families/unipic2-metaquery/convert/convert-metaquery.js';
import { makeTinyMetaquery, TINY_CONDITIONER_CONFIG } from '../src/families/unipic2-metaquery/convert/tiny/make-tiny-metaquery.js';

/**
 * A random UniPic2-Metaquery checkpoint with the published shapes (Qwen2.5-VL-7B-Instruct's
 * config.json; the conditioner stub's numbers), in the published layout: `Qwen2.5-VL-7B-Instruct/` with five bf16
 * shards + `model.safetensors.index.json`, and `conditioner/diffusion_pytorch_model.safetensors`.
 * Each tensor is generated when the writer reaches it, so memory holds one tensor (the largest is
 * the 1.09 GB bf16 embedding), never the 18 GB model. The Kontext transformer, VAE and scheduler
 * are the Kontext family's and are not written.
 *
 * Values: uniform, fan-in scaled matrices, norm gains 1 ± 0.1, biases ± 0.1, embeddings, head and
 * meta-queries ± 1 (the tiny generator's rule); a seeded xorshift per key, so reruns write the same bytes.
 */

/** Qwen2.5-VL-7B-Instruct's config.json (the tiny one's fields at their published values). */
export const QWEN25_VL_7B_CONFIG = {
  ...TINY_QWEN25_VL_CONFIG,
  hidden_size: 3584,
  intermediate_size: 18944,
  num_attention_heads: 28,
  num_hidden_layers: 28,
  num_key_value_heads: 4,
  vision_config: {
    ...TINY_QWEN25_VL_CONFIG.vision_config,
    depth: 32,
    hidden_size: 1280,
    intermediate_size: 3420,
    num_heads: 16,
    out_hidden_size: 3584,
    fullatt_block_indexes: [7, 15, 23, 31],
  },
  rope_scaling: { type: 'mrope', mrope_section: [16, 24, 24] },
};

/** The Metaquery conditioner's config (the numbers of the official conversion stub, `stable_diffusion_3_conditioner.py`). */
export const METAQUERY_CONDITIONER_CONFIG = {
  ...TINY_CONDITIONER_CONFIG,
  connector_config: { _attn_implementation: 'flash_attention_2', hidden_size: 1536, intermediate_size: 8960, num_attention_heads: 24, num_hidden_layers: 24 },
  joint_attention_dim: 4096,
  llm_hidden_size: 3584,
  num_queries: 256,
  pooled_projection_dim: 2048,
};

const SHARD_BYTES = 3.9e9;

export interface MqCheckpointStats {
  readonly tensors: number;
  readonly parameters: number;
  readonly bytes: number;
  readonly shards: number;
  readonly ms: number;
}

export async function writeMqFullSizeCheckpoint(directory: string, seed = 1234): Promise<MqCheckpointStats> {
  const started = Date.now();
  const vlmDir = join(directory, VLM_FOLDER);
  const condDir = join(directory, 'conditioner');
  await mkdir(vlmDir, { recursive: true });
  await mkdir(condDir, { recursive: true });
  const { llm, vision, lmHead } = vlmTensorShapes(QWEN25_VL_7B_CONFIG);
  // Published order: language model first, the vision tower and lm_head in the last shard.
  const groups: ShapedTensor[][] = [[]];
  let groupBytes = 0;
  for (const tensor of [...llm, ...vision, lmHead]) {
    const size = 2 * count(tensor[1]);
    if (groupBytes + size > SHARD_BYTES && groups[groups.length - 1].length) {
      groups.push([]);
      groupBytes = 0;
    }
    groups[groups.length - 1].push(tensor);
    groupBytes += size;
  }
  const weightMap: Record<string, string> = {};
  let bytes = 0;
  let parameters = 0;
  for (const [index, group] of groups.entries()) {
    const file = `model-${pad(index + 1)}-of-${pad(groups.length)}.safetensors`;
    await writeSafetensorsFile(join(vlmDir, file), group.map(lazyBf16(seed)), { format: 'pt' });
    for (const [name, shape] of group) {
      weightMap[name] = file;
      bytes += 2 * count(shape);
      parameters += count(shape);
    }
  }
  await writeJson(join(vlmDir, 'model.safetensors.index.json'), { metadata: { total_size: bytes }, weight_map: weightMap });
  await writeJson(join(vlmDir, 'config.json'), QWEN25_VL_7B_CONFIG);
  // The generation/preprocessor configs, chat template and tokenizer make-tiny writes are the published ones.
  const tinyDir = await mkdtemp(join(tmpdir(), 'mq-tiny-'));
  try {
    await makeTinyMetaquery(tinyDir);
    for (const f of ['generation_config.json', 'preprocessor_config.json', 'chat_template.json', 'vocab.json', 'merges.txt', 'tokenizer_config.json'])
      await copyFile(join(tinyDir, VLM_FOLDER, f), join(vlmDir, f));
  } finally {
    await rm(tinyDir, { recursive: true, force: true });
  }

  const cond = conditionerTensorShapes(METAQUERY_CONDITIONER_CONFIG);
  await writeSafetensorsFile(join(condDir, 'diffusion_pytorch_model.safetensors'), cond.map(lazyBf16(seed)), { format: 'pt' });
  await writeJson(join(condDir, 'config.json'), METAQUERY_CONDITIONER_CONFIG);
  for (const [, shape] of cond) {
    bytes += 2 * count(shape);
    parameters += count(shape);
  }
  return { tensors: llm.length + vision.length + 1 + cond.length, parameters, bytes, shards: groups.length, ms: Date.now() - started };
}

function lazyBf16(seed: number) {
  return ([name, shape]: ShapedTensor) => ({ name, dtype: 'bfloat16' as const, shape: [...shape], data: () => randomBf16(name, shape, seed) });
}

/** The tiny generator's scale rule with a fast per-key xorshift; bfloat16 by truncation. */
function randomBf16(name: string, shape: TensorShape, seed: number): Uint8Array {
  const n = count(shape);
  const isNorm = /norm|ln_q/.test(name) && name.endsWith('weight');
  const scale = name.endsWith('bias') || isNorm ? 0.1 : /embed_tokens|meta_queries|lm_head/.test(name) ? 1 : 1 / Math.sqrt(n / shape[0]);
  const low = (isNorm ? 1 : 0) - scale;
  const unit = (2 * scale) / 4294967296;
  const out = new Uint16Array(n);
  // A float32 chunk whose high halves are the bfloat16 values (little-endian).
  const chunk = new Float32Array(Math.min(n, 1 << 16));
  const halves = new Uint16Array(chunk.buffer);
  let state = (hashString(name) ^ seed) >>> 0 || 0x9e3779b9;
  for (let start = 0; start < n; start += chunk.length) {
    const size = Math.min(chunk.length, n - start);
    for (let i = 0; i < size; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      chunk[i] = low + (state >>> 0) * unit;
    }
    for (let i = 0; i < size; i++) out[start + i] = halves[2 * i + 1];
  }
  return new Uint8Array(out.buffer);
}

function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const count = (shape: TensorShape) => shape.reduce((a, b) => a * b, 1);
const pad = (n: number) => String(n).padStart(5, '0');

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}
