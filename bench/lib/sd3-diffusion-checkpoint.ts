import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeSafetensorsFile, type SafetensorsFileTensor } from '../../src/convert/writers/safetensors-file-writer.js';
import { readSd3DiffusionStructure, type Sd3DiffusionStructure } from '../../src/convert/sd3-diffusion/diffusion-configs.js';
import { sd3DiffusionShapes } from '../../src/convert/sd3-diffusion/diffusion-shapes.js';
import { TINY_SCHEDULER_CONFIG, TINY_SD3_DIFFUSION_CONFIGS } from '../../src/convert/sd3-diffusion/tiny-diffusion.js';
import { cropPositionTable } from '../../src/core/diffusion/position-embedding.js';
import { float32ToBfloat16 } from '../../src/formats/float-conversion.js';

/**
 * The SD3.5M-Kontext transformer, SD3 VAE and scheduler of UniPic-2 at their published shapes, as
 * random bf16 diffusers folders: shared by the full-size Kontext bench (with its text encoders) and
 * the full-size Metaquery bench (whose Skywork folder carries the same three).
 */

/** The published configs (Skywork/UniPic2-SD3.5M-Kontext-2B: SD3.5 Medium's shapes), the fields the converter reads. */
export const SD3_DIFFUSION_CONFIGS = {
  transformer: {
    _class_name: 'SD3Transformer2DKontextModel',
    sample_size: 128,
    patch_size: 2,
    in_channels: 16,
    num_layers: 24,
    attention_head_dim: 64,
    num_attention_heads: 24,
    joint_attention_dim: 4096,
    caption_projection_dim: 1536,
    pooled_projection_dim: 2048,
    out_channels: 16,
    pos_embed_max_size: 384,
    dual_attention_layers: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    qk_norm: 'rms_norm',
  },
  // The published SD3 VAE: the tiny oracle's config with SD3's widths, depth and groups.
  vae: { ...TINY_SD3_DIFFUSION_CONFIGS.vae, block_out_channels: [128, 256, 512, 512], layers_per_block: 2, norm_num_groups: 32 },
} as const;

/** SD3.5's scheduler, as published (the tiny folders use it unchanged). */
export const SCHEDULER_CONFIG = TINY_SCHEDULER_CONFIG;
const WEIGHT_FILE = 'diffusion_pytorch_model.safetensors';

export async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Seeded uniform values with make-tiny's scales (fan-in scaled matrices, gains near 1, small biases). */
export function randomBf16(key: string, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const last = key.split('.').pop();
  const gain = last === 'weight' && shape.length === 1;
  const table = /embedding|shared\.weight|relative_attention_bias/.test(key);
  const fanIn = shape.length >= 2 ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
  const scale = table ? 0.5 : gain ? 0.1 : last === 'bias' ? 0.1 : 1 / Math.sqrt(fanIn);
  let state = 0x9e3779b9;
  for (let i = 0; i < key.length; i++) state = Math.imul(state ^ key.charCodeAt(i), 0x01000193) >>> 0;
  const values = new Float32Array(count);
  // xorshift32 → uniform in [−√3, √3)·scale (unit variance before scaling).
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    values[i] = (gain ? 1 : 0) + scale * (((state >>> 0) / 2 ** 32) * 2 - 1) * Math.sqrt(3);
  }
  const half = float32ToBfloat16(values);
  return new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
}

/** The transformer's `pos_embed.pos_embed` buffer as published: the sin-cos table at its full size, bf16. */
export function positionTableTensor(structure: Sd3DiffusionStructure): SafetensorsFileTensor {
  const t = structure.transformer;
  return {
    name: 'pos_embed.pos_embed',
    dtype: 'bfloat16',
    shape: [1, t.posEmbedMaxSize ** 2, t.width],
    data: () => {
      const table = cropPositionTable(
        { width: t.width, maxSize: t.posEmbedMaxSize, baseSize: t.sampleSize / t.patchSize, interpolationScale: 1, rounding: 'bfloat16' },
        t.posEmbedMaxSize,
        t.posEmbedMaxSize,
      );
      const half = float32ToBfloat16(table);
      return new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
    },
  };
}

/**
 * `transformer/`, `vae/` and `scheduler/` at the published shapes under `dir` (2.33 B parameters,
 * 4.7 GB bf16), one tensor in memory at a time. Returns the parameter count per component.
 */
export async function writeSd3DiffusionFolders(dir: string): Promise<Record<string, number>> {
  for (const [component, config] of Object.entries(SD3_DIFFUSION_CONFIGS)) await writeJson(join(dir, component, 'config.json'), config);
  await writeJson(join(dir, 'scheduler', 'scheduler_config.json'), SCHEDULER_CONFIG);
  const structure = await readSd3DiffusionStructure(dir);
  const shapes = new Map<string, readonly number[]>();
  sd3DiffusionShapes(shapes, structure);
  const params: Record<string, number> = {};
  for (const component of ['transformer', 'vae']) {
    const tensors: SafetensorsFileTensor[] = [];
    for (const [key, shape] of shapes) {
      if (!key.startsWith(`${component}.`)) continue;
      tensors.push({ name: key.slice(component.length + 1), dtype: 'bfloat16', shape: [...shape], data: () => randomBf16(key, shape) });
      params[component] = (params[component] ?? 0) + shape.reduce((a, b) => a * b, 1);
    }
    if (component === 'transformer') tensors.push(positionTableTensor(structure));
    await writeSafetensorsFile(join(dir, component, WEIGHT_FILE), tensors, { format: 'pt' });
  }
  return params;
}
