import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeededRandom } from '../../../core/random/random-source.js';
import {
  bf16SafetensorsFile as bf16File,
  publishedPositionTable,
  TINY_SCHEDULER_CONFIG,
  TINY_SD3_DIFFUSION_CONFIGS,
  tinyWeight,
  writeJsonFile as json,
} from '../../../convert/sd3-diffusion/tiny-diffusion.js';
import { readKontextCheckpointConfig } from './diffusers-configs.js';
import { expectedShapes } from './kontext-keys.js';

/**
 * The tiny configs of the UniPic-2 oracle (after diffusers' SD3 pipeline tests), in the published config.json forms, except
 * `pos_embed_max_size`: 32 instead of the oracle's 24, so the position table covers 512 px
 * (32 patches × 2 × VAE 8) and the family's defaults (384×512 generation, 512 longer edge for
 * editing) run on the make-tiny model; the oracle fixture keeps 24 (sizes up to 384 px).
 */
export const TINY_KONTEXT_CONFIGS = {
  ...TINY_SD3_DIFFUSION_CONFIGS,
  text_encoder: {
    architectures: ['CLIPTextModelWithProjection'],
    hidden_size: 8,
    intermediate_size: 16,
    num_hidden_layers: 3,
    num_attention_heads: 2,
    projection_dim: 8,
    vocab_size: 49408,
    max_position_embeddings: 77,
    hidden_act: 'quick_gelu',
    layer_norm_eps: 1e-5,
    bos_token_id: 0,
    eos_token_id: 2,
    pad_token_id: 1,
  },
  text_encoder_2: {
    architectures: ['CLIPTextModelWithProjection'],
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 3,
    num_attention_heads: 2,
    projection_dim: 16,
    vocab_size: 49408,
    max_position_embeddings: 77,
    hidden_act: 'gelu',
    layer_norm_eps: 1e-5,
    bos_token_id: 0,
    eos_token_id: 2,
    pad_token_id: 1,
  },
  text_encoder_3: {
    architectures: ['T5EncoderModel'],
    d_model: 32,
    d_ff: 48,
    d_kv: 8,
    num_heads: 4,
    num_layers: 2,
    feed_forward_proj: 'gated-gelu',
    relative_attention_num_buckets: 32,
    relative_attention_max_distance: 128,
    vocab_size: 32128,
    layer_norm_epsilon: 1e-6,
  },
} as const;

/** `model_index.json` of the published folder (make-tiny and the full-size benchmark write it). */
export const MODEL_INDEX = {
  _class_name: 'StableDiffusion3KontextPipeline',
  scheduler: ['diffusers', 'FlowMatchEulerDiscreteScheduler'],
  text_encoder: ['transformers', 'CLIPTextModelWithProjection'],
  text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
  text_encoder_3: ['transformers', 'T5EncoderModel'],
  tokenizer: ['transformers', 'CLIPTokenizer'],
  tokenizer_2: ['transformers', 'CLIPTokenizer'],
  tokenizer_3: ['transformers', 'T5TokenizerFast'],
  transformer: ['diffusers', 'SD3Transformer2DKontextModel'],
  vae: ['diffusers', 'AutoencoderKL'],
};

/** Weight file of each single-file component in the published layout (T5 is sharded). */
export const WEIGHT_FILE: Record<string, string> = {
  transformer: 'diffusion_pytorch_model.safetensors',
  vae: 'diffusion_pytorch_model.safetensors',
  text_encoder: 'model.safetensors',
  text_encoder_2: 'model.safetensors',
};

/** The CLIP BPE and T5 tokenizer files shipped in the package's `assets/` (found by walking up). */
export function bundledAsset(folder: 'clip-tokenizer' | 't5-tokenizer'): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(directory, 'assets', folder);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(directory);
    if (parent === directory) throw new Error(`assets/${folder} is missing from this installation`);
    directory = parent;
  }
}

type Tensor = { name: string; shape: readonly number[]; data: Float32Array };

/** The three tokenizer folders as the published checkpoint has them, from the bundled assets. */
export async function writeTokenizers(dir: string): Promise<void> {
  const clip = bundledAsset('clip-tokenizer');
  const special = (content: string, normalized: boolean) => ({ content, lstrip: false, normalized, rstrip: false, single_word: false, special: true });
  for (const [folder, pad] of [
    ['tokenizer', '<|endoftext|>'],
    ['tokenizer_2', '!'],
  ] as const) {
    await mkdir(join(dir, folder), { recursive: true });
    await copyFile(join(clip, 'vocab.json'), join(dir, folder, 'vocab.json'));
    await copyFile(join(clip, 'merges.txt'), join(dir, folder, 'merges.txt'));
    const added: Record<string, unknown> = { '49406': special('<|startoftext|>', true), '49407': special('<|endoftext|>', false) };
    if (pad === '!') added['0'] = special('!', false);
    await json(join(dir, folder, 'tokenizer_config.json'), {
      added_tokens_decoder: added,
      bos_token: '<|startoftext|>',
      eos_token: '<|endoftext|>',
      pad_token: pad,
      unk_token: '<|endoftext|>',
      do_lower_case: true,
      model_max_length: 77,
      tokenizer_class: 'CLIPTokenizer',
    });
  }
  await mkdir(join(dir, 'tokenizer_3'), { recursive: true });
  await copyFile(join(bundledAsset('t5-tokenizer'), 'tokenizer.json'), join(dir, 'tokenizer_3', 'tokenizer.json'));
  await json(join(dir, 'tokenizer_3', 'tokenizer_config.json'), {
    eos_token: '</s>',
    pad_token: '<pad>',
    unk_token: '<unk>',
    model_max_length: 512,
    tokenizer_class: 'T5Tokenizer',
  });
}

/**
 * `unipic make-tiny <dir> --family unipic2-kontext`: a seeded random UniPic2-SD3.5M-Kontext
 * checkpoint in the published diffusers layout (subfolders, as the official scripts load them): bf16 safetensors per component
 * (T5 in two shards with an index, as T5-XXL is published), the bf16 position buffer, the real
 * CLIP and T5 tokenizer files (from assets/), the SD3.5 scheduler config and model_index.json.
 */
export async function makeTinyKontextCheckpoint(dir: string, options: { seed?: number } = {}): Promise<void> {
  for (const [component, config] of Object.entries(TINY_KONTEXT_CONFIGS)) await json(join(dir, component, 'config.json'), config);
  await json(join(dir, 'scheduler', 'scheduler_config.json'), TINY_SCHEDULER_CONFIG);
  await json(join(dir, 'model_index.json'), MODEL_INDEX);
  await writeTokenizers(dir);

  const structure = await readKontextCheckpointConfig(dir, true);
  const shapes = expectedShapes(structure, { clipL: 49408, clipG: 49408, t5: 32128 });
  const random = new SeededRandom(options.seed ?? 20261206);
  const byComponent = new Map<string, Tensor[]>();
  for (const [key, shape] of shapes) {
    const data = tinyWeight(key, shape, random);
    const [component, ...rest] = key.split('.');
    const list = byComponent.get(component) ?? [];
    list.push({ name: rest.join('.'), shape, data });
    byComponent.set(component, list);
  }
  byComponent.get('transformer')!.push(publishedPositionTable(structure.transformer));

  for (const [component, tensors] of byComponent) {
    if (component !== 'text_encoder_3') {
      await writeFile(join(dir, component, WEIGHT_FILE[component]), bf16File(tensors));
      continue;
    }
    const half = Math.ceil(tensors.length / 2);
    const shards = [tensors.slice(0, half), tensors.slice(half)];
    const weightMap: Record<string, string> = {};
    for (const [i, shard] of shards.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      await writeFile(join(dir, component, file), bf16File(shard));
      for (const tensor of shard) weightMap[tensor.name] = file;
    }
    const totalSize = tensors.reduce((sum, tensor) => sum + tensor.data.length * 2, 0);
    await json(join(dir, component, 'model.safetensors.index.json'), { metadata: { total_size: totalSize }, weight_map: weightMap });
  }
}
