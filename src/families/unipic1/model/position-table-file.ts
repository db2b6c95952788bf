import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { decodeSafetensors } from '../../../formats/safetensors.js';
import type { PositionTables } from '../generation/position-tables.js';

function float32Tensor(tensors: ReturnType<typeof decodeSafetensors>['tensors'], name: string, rows: number, width: number, what: string): Float32Array {
  const tensor = tensors.get(name);
  if (!tensor || tensor.dtype !== 'float32') throw new InvalidModelError(`${what}: missing float32 tensor ${name}`);
  if (tensor.shape.length !== 2 || tensor.shape[0] !== rows || tensor.shape[1] !== width) {
    throw new InvalidModelError(`${what}: ${name} has shape [${tensor.shape.join(', ')}], expected [${rows}, ${width}]`);
  }
  // Copy out of the file buffer so the buffer can be dropped (and alignment is guaranteed).
  return new Float32Array(tensor.bytes.slice().buffer);
}

/** Widths of the tables: `encoder_pos` has the MAR encoder's, `decoder_pos` and `diffusion_pos` the decoder's. */
export interface TableWidths {
  readonly encoderWidth: number;
  readonly decoderWidth: number;
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
  if (!tensor || tensor.dtype !== 'float32' || tensor.shape.reduce((a, b) => a * b, 1) !== width) {
    throw new InvalidModelError(`${what}: missing float32 mask_token of ${width} values`);
  }
  return new Float32Array(tensor.bytes.slice().buffer);
}
