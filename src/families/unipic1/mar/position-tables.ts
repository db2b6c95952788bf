import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { decodeSafetensors } from '../../../formats/safetensors.js';
import { resizeBilinear } from './bilinear-resize.js';

/**
 * The MAR position tables for one output size: read from the converter's
 * `tables-<size>.safetensors`, or resized from the native ones at run time. One module for the
 * type, the file reader and the resize, so pipelines, assets and the converter share it.
 */
export interface PositionTables {
  /** Output image side in pixels. */
  readonly size: number;
  /** Latent grid side; N = grid². */
  readonly grid: number;
  /** `[F+N, We]` (MAR encoder width), buffer rows first. */
  readonly encoderPos: Float32Array;
  /** `[F+N, Wd]` (MAR decoder width). */
  readonly decoderPos: Float32Array;
  /** `[N, Wd]`. */
  readonly diffusionPos: Float32Array;
}

/** Widths of the tables: `encoder_pos` has the MAR encoder's, `decoder_pos` and `diffusion_pos` the decoder's. */
export interface TableWidths {
  readonly encoderWidth: number;
  readonly decoderWidth: number;
}

function float32Tensor(tensors: ReturnType<typeof decodeSafetensors>['tensors'], name: string, rows: number, width: number, what: string): Float32Array {
  const tensor = tensors.get(name);
  if (tensor?.dtype !== 'float32') throw new InvalidModelError(`${what}: missing float32 tensor ${name}`);
  if (tensor.shape.length !== 2 || tensor.shape[0] !== rows || tensor.shape[1] !== width) {
    throw new InvalidModelError(`${what}: ${name} has shape [${tensor.shape.join(', ')}], expected [${rows}, ${width}]`);
  }
  // Copy out of the file buffer so the buffer can be dropped (and alignment is guaranteed).
  return new Float32Array(tensor.bytes.slice().buffer);
}

/** Read `tables-<size>.safetensors` (written by the converter) for a grid. */
export function readPositionTables(bytes: Uint8Array, size: number, grid: number, bufferSize: number, widths: TableWidths, what: string): PositionTables {
  const { tensors } = decodeSafetensors(bytes, what);
  const n = grid * grid;
  return {
    size,
    grid,
    encoderPos: float32Tensor(tensors, 'encoder_pos', bufferSize + n, widths.encoderWidth, what),
    decoderPos: float32Tensor(tensors, 'decoder_pos', bufferSize + n, widths.decoderWidth, what),
    diffusionPos: float32Tensor(tensors, 'diffusion_pos', n, widths.decoderWidth, what),
  };
}

/** `mar-constants.safetensors`: the decoder's mask token. */
export function readMaskToken(bytes: Uint8Array, width: number, what: string): Float32Array {
  const { tensors } = decodeSafetensors(bytes, what);
  const tensor = tensors.get('mask_token');
  if (tensor?.dtype !== 'float32' || tensor.shape.reduce((a, b) => a * b, 1) !== width) {
    throw new InvalidModelError(`${what}: missing float32 mask_token of ${width} values`);
  }
  return new Float32Array(tensor.bytes.slice().buffer);
}

/**
 * Tables for an output size the converter did not precompute, from the native-grid tables (the
 * learned ones, unresized): the buffer rows unchanged, the image part resized bilinearly
 * (`align_corners=False`) in float64, as MAR's `get_*_pos_embed` does at run time.
 */
export function resizePositionTables(native: PositionTables, size: number, grid: number, bufferSize: number, widths: TableWidths): PositionTables {
  const from = { height: native.grid, width: native.grid };
  const to = { height: grid, width: grid };
  const withBuffers = (table: Float32Array, buffers: number, width: number) => {
    const out = new Float32Array((buffers + grid * grid) * width);
    out.set(table.subarray(0, buffers * width));
    out.set(resizeBilinear(table.subarray(buffers * width), from, to, width), buffers * width);
    return out;
  };
  return {
    size,
    grid,
    encoderPos: withBuffers(native.encoderPos, bufferSize, widths.encoderWidth),
    decoderPos: withBuffers(native.decoderPos, bufferSize, widths.decoderWidth),
    diffusionPos: withBuffers(native.diffusionPos, 0, widths.decoderWidth),
  };
}
