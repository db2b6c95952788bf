import { closeSync, openSync, writeSync } from 'node:fs';
import { encodeSafetensorsHeader } from '../../src/formats/safetensors-encoder.js';
import type { TensorDtype } from '../../src/formats/tensor-dtype.js';

export interface LazyTensor {
  readonly name: string;
  readonly dtype: TensorDtype;
  readonly shape: readonly number[];
  /** Little-endian bytes, made when written (one tensor in memory at a time). */
  bytes(): Uint8Array;
}

/** Streams tensors into a safetensors file (for the PyTorch oracle), one at a time. */
export function writeSafetensorsFile(path: string, tensors: readonly LazyTensor[]): void {
  const header = encodeSafetensorsHeader(tensors);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header.prefix);
    tensors.forEach((tensor, i) => {
      const bytes = tensor.bytes();
      if (bytes.length !== header.byteLengths[i]) throw new Error(`${tensor.name}: ${bytes.length} bytes, header says ${header.byteLengths[i]}`);
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    });
  } finally {
    closeSync(fd);
  }
}

export function float32Bytes(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function int64Bytes(values: ArrayLike<number>): Uint8Array {
  const data = BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
  return new Uint8Array(data.buffer);
}
