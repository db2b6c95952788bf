import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeSafetensors } from '../formats/safetensors-encoder.js';
import { MANIFEST_VERSION, manifestSchema, type FileEntry, type Manifest, type ModelConfig } from '../spec/manifest.js';
import type { WeightSource } from './graphs/weights.js';
import { buildPositionTables, readLearnedPositionTables } from '../families/unipic1/convert/position-tables.js';

/** sha256 of a file, streamed (graph data files can be gigabytes). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function fileEntry(directory: string, path: string): Promise<FileEntry> {
  const full = join(directory, path);
  return { path, size: (await stat(full)).size, sha256: await sha256File(full) };
}

/** Write `unipic.json` atomically after validating it against the SDK's own schema. */
export async function writeManifest(directory: string, manifest: Omit<Manifest, 'format' | 'version'>): Promise<Manifest> {
  const full = manifestSchema.parse({ format: 'unipic', version: MANIFEST_VERSION, ...manifest });
  await mkdir(directory, { recursive: true });
  const temporary = join(directory, 'unipic.json.partial');
  await writeFile(temporary, `${JSON.stringify(full, null, 2)}\n`);
  await rename(temporary, join(directory, 'unipic.json'));
  return full;
}

/** Checkpoint keys the tables and constants files are made from. */
export const TABLE_KEYS = ['mar.encoder_pos_embed_learned', 'mar.decoder_pos_embed_learned', 'mar.diffusion_pos_embed_learned', 'mar.mask_token'];

/** `tables-<size>.safetensors` for each output size (docs/model-format.md). */
export async function writeResolutionTables(
  directory: string,
  weights: WeightSource,
  mar: ModelConfig['mar'],
  sizes: readonly number[],
): Promise<Manifest['resolutions']> {
  const layout = { bufferSize: mar.bufferSize, nativeGrid: mar.nativeGrid, encoderWidth: mar.encoderWidth, decoderWidth: mar.decoderWidth };
  const learned = readLearnedPositionTables(weights, layout);
  const resolutions: Manifest['resolutions'] = [];
  for (const size of sizes) {
    const grid = size / mar.vaeStride;
    const tables = buildPositionTables(learned, layout, grid);
    const file = `tables-${size}.safetensors`;
    const rows = layout.bufferSize + grid * grid;
    await writeFile(
      join(directory, file),
      encodeSafetensors([
        float32Tensor('encoder_pos', [rows, layout.encoderWidth], tables.encoderPos),
        float32Tensor('decoder_pos', [rows, layout.decoderWidth], tables.decoderPos),
        float32Tensor('diffusion_pos', [grid * grid, layout.decoderWidth], tables.diffusionPos),
      ]),
    );
    resolutions.push({ size, grid, tables: file });
  }
  return resolutions;
}

/** `mar-constants.safetensors` (the mask token); returns its file name. */
export async function writeMarConstants(directory: string, weights: WeightSource, mar: ModelConfig['mar']): Promise<string> {
  const file = 'mar-constants.safetensors';
  await writeFile(join(directory, file), encodeSafetensors([float32Tensor('mask_token', [mar.decoderWidth], weights.float32('mar.mask_token'))]));
  return file;
}

function float32Tensor(name: string, shape: number[], data: Float32Array) {
  return { name, dtype: 'float32' as const, shape, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
