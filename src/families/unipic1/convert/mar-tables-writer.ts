import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WeightSource } from '../../../convert/graphs/weights.js';
import { encodeSafetensors } from '../../../formats/safetensors-encoder.js';
import type { ModelConfig, UniPic1Manifest } from '../manifest.js';
import { buildPositionTables, readLearnedPositionTables } from './position-tables.js';

/** Checkpoint keys the tables and constants files are made from. */
export const TABLE_KEYS = ['mar.encoder_pos_embed_learned', 'mar.decoder_pos_embed_learned', 'mar.diffusion_pos_embed_learned', 'mar.mask_token'];

/** `tables-<size>.safetensors` for each output size (docs/model-format.md). */
export async function writeResolutionTables(
  directory: string,
  weights: WeightSource,
  mar: ModelConfig['mar'],
  sizes: readonly number[],
): Promise<UniPic1Manifest['resolutions']> {
  const layout = { bufferSize: mar.bufferSize, nativeGrid: mar.nativeGrid, encoderWidth: mar.encoderWidth, decoderWidth: mar.decoderWidth };
  const learned = readLearnedPositionTables(weights, layout);
  const resolutions: UniPic1Manifest['resolutions'] = [];
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
