import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { bytesToFloat32 } from '../../formats/float-conversion.js';
import { gatherStrided, isContiguous, viewSpan } from '../../formats/strided-layout.js';
import { DTYPE_BYTE_SIZE } from '../../formats/tensor-dtype.js';
import type { StorageDescriptor, TensorDescriptor } from './tensor-descriptor.js';

/** Reads `[start, start + length)` bytes of a storage. */
export type StorageRangeReader = (storage: StorageDescriptor, start: number, length: number) => Promise<Uint8Array>;

/** Checks the view fits its storage; run at open time so lies are found before any conversion. */
export function validateView(tensor: TensorDescriptor): void {
  const itemSize = DTYPE_BYTE_SIZE[tensor.dtype];
  viewSpan(tensor.shape, tensor.stride, tensor.storageOffset, Math.floor(tensor.storage.byteLength / itemSize), `tensor "${tensor.name}"`);
}

/** Reads only the storage span the view touches, then compacts strided views into row-major order. */
export async function readTensorBytes(tensor: TensorDescriptor, readRange: StorageRangeReader): Promise<Uint8Array> {
  const itemSize = DTYPE_BYTE_SIZE[tensor.dtype];
  const what = `tensor "${tensor.name}"`;
  const span = viewSpan(tensor.shape, tensor.stride, tensor.storageOffset, Math.floor(tensor.storage.byteLength / itemSize), what);
  if (span.length === 0) return new Uint8Array(0);
  const bytes = await readRange(tensor.storage, span.first * itemSize, span.length * itemSize);
  if (bytes.length !== span.length * itemSize) throw new InvalidModelError(`${what}: short read from ${tensor.storage.file}`);
  return isContiguous(tensor.shape, tensor.stride) ? bytes : gatherStrided(bytes, tensor.shape, tensor.stride, itemSize);
}

export async function readTensorFloat32(tensor: TensorDescriptor, readRange: StorageRangeReader): Promise<Float32Array> {
  return bytesToFloat32(await readTensorBytes(tensor, readRange), tensor.dtype, `tensor "${tensor.name}"`);
}

export function lookupTensor(tensors: ReadonlyMap<string, TensorDescriptor>, name: string, path: string): TensorDescriptor {
  const tensor = tensors.get(name);
  if (!tensor) throw new InvalidModelError(`${path} has no tensor "${name}"`);
  return tensor;
}
