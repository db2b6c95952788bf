import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { cropPositionTable } from '../../core/diffusion/position-embedding.js';
import { SeededRandom } from '../../core/random/random-source.js';
import { float32ToBfloat16 } from '../../formats/float-conversion.js';
import { encodeSafetensors } from '../../formats/safetensors-encoder.js';
import { readSd3DiffusionStructure, type MmditStructure } from './diffusion-configs.js';
import { sd3DiffusionShapes } from './diffusion-shapes.js';

/**
 * The tiny SD3.5M-Kontext transformer and SD3 VAE of the UniPic-2 oracle (`tools/reference/unipic2_reference`), in their published config.json
 * forms: joint-attention width 32 and pooled width 24, which the tiny UniPic2-Kontext text side and
 * the tiny UniPic2-Metaquery conditioner both produce. `pos_embed_max_size` is 32 instead of
 * the oracle's 24, so the position table covers 512 px (32 patches × 2 × VAE 8) and the families'
 * defaults (384×512 generation, 512 longer edge for editing) run on make-tiny models; the oracle
 * fixtures keep 24 (sizes up to 384 px).
 */
export const TINY_SD3_DIFFUSION_CONFIGS = {
  transformer: {
    _class_name: 'SD3Transformer2DKontextModel',
    sample_size: 32,
    patch_size: 2,
    in_channels: 16,
    num_layers: 3,
    attention_head_dim: 8,
    num_attention_heads: 4,
    joint_attention_dim: 32,
    caption_projection_dim: 32,
    pooled_projection_dim: 24,
    out_channels: 16,
    pos_embed_max_size: 32,
    dual_attention_layers: [0, 1],
    qk_norm: 'rms_norm',
  },
  vae: {
    _class_name: 'AutoencoderKL',
    in_channels: 3,
    out_channels: 3,
    down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D'],
    up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D'],
    block_out_channels: [8, 8, 16, 16],
    layers_per_block: 1,
    latent_channels: 16,
    norm_num_groups: 4,
    act_fn: 'silu',
    scaling_factor: 1.5305,
    shift_factor: 0.0609,
    use_quant_conv: false,
    use_post_quant_conv: false,
    mid_block_add_attention: true,
  },
} as const;

/** SD3.5's scheduler config (static shift 3). */
export const TINY_SCHEDULER_CONFIG = { _class_name: 'FlowMatchEulerDiscreteScheduler', num_train_timesteps: 1000, shift: 3.0 } as const;

export type TinyTensor = { name: string; shape: readonly number[]; data: Float32Array };

/**
 * A seeded random value for checkpoint key `key`: linears/convs N(0, 1/√fan_in), biases and norm
 * gains N(0, 0.1) (gains around 1), embedding tables N(0, 0.5) — O(1) activations at every depth.
 */
export function tinyWeight(key: string, shape: readonly number[], random: SeededRandom): Float32Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const noise = random.normal(count, { kind: 'initial-latent' });
  const last = key.split('.').pop();
  const gain = last === 'weight' && shape.length === 1;
  const table = /embedding|shared\.weight|relative_attention_bias/.test(key);
  const fanIn = shape.length >= 2 ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
  const scale = table ? 0.5 : gain ? 0.1 : last === 'bias' ? 0.1 : 1 / Math.sqrt(fanIn);
  return Float32Array.from(noise, (v) => (gain ? 1 : 0) + scale * v);
}

/** A bf16 safetensors file (as the checkpoints are published) of float32 tensors. */
export function bf16SafetensorsFile(tensors: readonly TinyTensor[]): Uint8Array {
  return encodeSafetensors(
    tensors.map((t) => {
      const half = float32ToBfloat16(t.data);
      return { name: t.name, dtype: 'bfloat16' as const, shape: t.shape, data: new Uint8Array(half.buffer, half.byteOffset, half.byteLength) };
    }),
    { format: 'pt' },
  );
}

/** The persistent `pos_embed.pos_embed` buffer as published: the full sin-cos table rounded to bf16. */
export function publishedPositionTable(t: MmditStructure): TinyTensor {
  const data = cropPositionTable(
    { width: t.width, maxSize: t.posEmbedMaxSize, baseSize: t.sampleSize / t.patchSize, interpolationScale: 1, rounding: 'bfloat16' },
    t.posEmbedMaxSize,
    t.posEmbedMaxSize,
  );
  return { name: 'pos_embed.pos_embed', shape: [1, t.posEmbedMaxSize ** 2, t.width], data };
}

export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Writes seeded random `transformer/`, `vae/` and `scheduler/` folders (the diffusers layout the
 * Skywork repositories publish) under `dir`, for families whose own make-tiny needs the sampler.
 */
export async function writeTinySd3Diffusion(dir: string, seed: number): Promise<void> {
  for (const [component, config] of Object.entries(TINY_SD3_DIFFUSION_CONFIGS)) await writeJsonFile(join(dir, component, 'config.json'), config);
  await writeJsonFile(join(dir, 'scheduler', 'scheduler_config.json'), TINY_SCHEDULER_CONFIG);
  const structure = await readSd3DiffusionStructure(dir);
  const shapes = new Map<string, readonly number[]>();
  sd3DiffusionShapes(shapes, structure);
  const random = new SeededRandom(seed);
  const files: Record<'transformer' | 'vae', TinyTensor[]> = { transformer: [], vae: [] };
  for (const [key, shape] of shapes) {
    const [component, ...rest] = key.split('.');
    files[component as 'transformer' | 'vae'].push({ name: rest.join('.'), shape, data: tinyWeight(key, shape, random) });
  }
  files.transformer.push(publishedPositionTable(structure.transformer));
  for (const [component, tensors] of Object.entries(files)) {
    await writeFile(join(dir, component, 'diffusion_pytorch_model.safetensors'), bf16SafetensorsFile(tensors));
  }
}
