import type { TensorDtype } from '../../formats/tensor-dtype.js';

/** The bytes a tensor is a view of: a `data/<key>` zip entry (PyTorch) or a safetensors range. */
export interface StorageDescriptor {
  /** Unique within an opened checkpoint; tensors with the same id alias the same bytes (tied weights). */
  readonly id: string;
  /** The file holding the bytes. */
  readonly file: string;
  /** PyTorch: the zip entry (`archive/data/3`). Absent for safetensors. */
  readonly entry?: string;
  /** safetensors: where the bytes start in the file. PyTorch entries resolve theirs when read. */
  readonly fileOffset?: number;
  readonly byteLength: number;
}

/**
 * One tensor of a checkpoint, as metadata only: reading it is a separate, explicit step so a
 * converter holds one tensor at a time. Shape, stride and offset count elements, as in PyTorch.
 */
export interface TensorDescriptor {
  readonly name: string;
  readonly dtype: TensorDtype;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly storageOffset: number;
  readonly storage: StorageDescriptor;
}

/** Something holding named tensors that can be read one at a time. */
export interface TensorSource {
  /** The file (or index file) the tensors come from. */
  readonly path: string;
  readonly format: 'pytorch' | 'safetensors';
  readonly tensors: ReadonlyMap<string, TensorDescriptor>;
  /** Names of non-tensor values that were left out (e.g. `epoch`). */
  readonly skipped: readonly string[];
  /** Contiguous row-major little-endian bytes of one tensor. */
  readBytes(name: string): Promise<Uint8Array>;
  /** One float tensor widened to float32 (float16 and bfloat16 exactly). */
  readFloat32(name: string): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Groups of tensor names that share one storage (tied weights, views of one buffer). */
export function findSharedStorages(tensors: Iterable<TensorDescriptor>): string[][] {
  const groups = new Map<string, string[]>();
  for (const tensor of tensors) {
    const group = groups.get(tensor.storage.id);
    if (group) group.push(tensor.name);
    else groups.set(tensor.storage.id, [tensor.name]);
  }
  return [...groups.values()].filter((group) => group.length > 1);
}
