import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { InvalidOptionsError } from '../../../errors/invalid-options-error.js';
import type { WeightSource } from '../../../convert/graphs/weights.js';
import { resizeBilinear, type GridShape } from '../mar/bilinear-resize.js';

/** The learned MAR position tables as stored in the checkpoint, without the leading batch axis. */
export interface LearnedPositionTables {
  /** `[F + g·g, encoderWidth]`: F buffer rows, then the native g×g grid in raster order. */
  readonly encoder: ArrayLike<number>;
  /** `[F + g·g, decoderWidth]`. */
  readonly decoder: ArrayLike<number>;
  /** `[g·g, decoderWidth]`: image positions only, no buffer rows. */
  readonly diffusion: ArrayLike<number>;
}

export interface PositionTableLayout {
  /** Buffer rows at the head of the encoder and decoder tables (64 for UniPic). */
  readonly bufferSize: number;
  /** Side of the square latent grid the tables were trained for (32 for UniPic, 4 for tiny). */
  readonly nativeGrid: number;
  readonly encoderWidth: number;
  readonly decoderWidth: number;
}

/** Tables for one output resolution, as the SDK reads them from `tables-<size>.safetensors`. */
export interface PositionTables {
  readonly grid: GridShape;
  /** `[F + N, encoderWidth]`. */
  readonly encoderPos: Float32Array;
  /** `[F + N, decoderWidth]`. */
  readonly decoderPos: Float32Array;
  /** `[N, decoderWidth]`. */
  readonly diffusionPos: Float32Array;
}

/** The checkpoint keys of the three learned tables. */
export const POSITION_TABLE_KEYS = {
  encoder: 'mar.encoder_pos_embed_learned',
  decoder: 'mar.decoder_pos_embed_learned',
  diffusion: 'mar.diffusion_pos_embed_learned',
} as const;

/**
 * Resize one learned table to `target`, keeping its first `bufferRows` rows unchanged, the way
 * MAR's `get_*_pos_embed` does: split, bilinear-resize the image part, concatenate again.
 * Computed in float64, rounded to float32 once.
 */
export function interpolatePositionTable(
  table: ArrayLike<number>,
  options: { bufferRows: number; native: GridShape; target: GridShape; channels: number },
): Float32Array {
  const { bufferRows, native, target, channels } = options;
  const imageValues = native.height * native.width * channels;
  const bufferValues = bufferRows * channels;
  if (table.length !== bufferValues + imageValues) {
    throw new InvalidModelError(
      `position table has ${table.length} values; expected ${bufferRows} buffer rows + ${native.height}×${native.width} positions of ${channels}`,
    );
  }
  const output = new Float32Array(bufferValues + target.height * target.width * channels);
  for (let i = 0; i < bufferValues; i++) output[i] = table[i];
  output.set(resizeBilinear(tail(table, bufferValues), native, target, channels), bufferValues);
  return output;
}

function tail(values: ArrayLike<number>, start: number): ArrayLike<number> {
  if (values instanceof Float32Array || values instanceof Float64Array) return values.subarray(start);
  return Array.prototype.slice.call(values, start) as number[];
}

/** The three tables for a `target` latent grid (`size / vae_stride` on each side). */
export function buildPositionTables(learned: LearnedPositionTables, layout: PositionTableLayout, target: GridShape | number): PositionTables {
  const grid = typeof target === 'number' ? { height: target, width: target } : target;
  if (!Number.isInteger(layout.bufferSize) || layout.bufferSize < 0) {
    throw new InvalidOptionsError(`bufferSize must be a non-negative integer, got ${layout.bufferSize}`);
  }
  const native = { height: layout.nativeGrid, width: layout.nativeGrid };
  return {
    grid,
    encoderPos: interpolatePositionTable(learned.encoder, {
      bufferRows: layout.bufferSize,
      native,
      target: grid,
      channels: layout.encoderWidth,
    }),
    decoderPos: interpolatePositionTable(learned.decoder, {
      bufferRows: layout.bufferSize,
      native,
      target: grid,
      channels: layout.decoderWidth,
    }),
    diffusionPos: interpolatePositionTable(learned.diffusion, {
      bufferRows: 0,
      native,
      target: grid,
      channels: layout.decoderWidth,
    }),
  };
}

/**
 * Read the learned tables from a checkpoint, checking each shape is `[1, rows, width]` (or
 * `[rows, width]`) for `layout`.
 */
export function readLearnedPositionTables(weights: WeightSource, layout: PositionTableLayout): LearnedPositionTables {
  const positions = layout.nativeGrid * layout.nativeGrid;
  const read = (key: string, rows: number, width: number): Float32Array => {
    if (!weights.has(key)) throw new InvalidModelError(`checkpoint lacks ${key}`);
    const shape = weights.shape(key).filter((dim, axis, all) => !(axis === 0 && all.length === 3 && dim === 1));
    if (shape.length !== 2 || shape[0] !== rows || shape[1] !== width) {
      throw new InvalidModelError(`${key} has shape [${weights.shape(key).join(', ')}], expected [1, ${rows}, ${width}]`);
    }
    return weights.float32(key);
  };
  return {
    encoder: read(POSITION_TABLE_KEYS.encoder, layout.bufferSize + positions, layout.encoderWidth),
    decoder: read(POSITION_TABLE_KEYS.decoder, layout.bufferSize + positions, layout.decoderWidth),
    diffusion: read(POSITION_TABLE_KEYS.diffusion, positions, layout.decoderWidth),
  };
}
