import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryWeights } from '../../../../src/convert/graphs/weights.js';
import type { TensorSource } from '../../../../src/convert/readers/tensor-descriptor.js';
import { goldenStore } from '../../../support/golden-store.js';

/** The UniPic-3 oracle's committed fixtures (tools/reference/unipic3_reference → test/fixtures/unipic3). */
export const UNIPIC3_ROOT = fileURLToPath(new URL('../../../fixtures/unipic3/', import.meta.url));
export const UNIPIC3_CHECKPOINT = join(UNIPIC3_ROOT, 'checkpoint');

interface Index {
  tensors: Record<string, { file: string; shape: number[]; dtype: string }>;
  report: Record<string, unknown>;
}
const store = goldenStore<Index>(UNIPIC3_ROOT);
export const unipic3Index = store.index;
const bytesOf = (name: string, dtype: string): Uint8Array => store.tensorBytes(name, dtype).bytes;

export interface Golden {
  data: Float32Array;
  shape: number[];
}

export function golden(name: string): Golden {
  return { data: new Float32Array(bytesOf(name, 'float32').buffer), shape: unipic3Index.tensors[name].shape };
}

export function goldenFloat64(name: string): Float64Array {
  return new Float64Array(bytesOf(name, 'float64').buffer);
}

export function goldenInt64(name: string): number[] {
  return Array.from(new BigInt64Array(bytesOf(name, 'int64').buffer), Number);
}

export { relativeError } from '../../../support/golden-store.js';

/** Every tensor of an opened checkpoint, widened to float32 (tiny fixtures only). */
export async function loadAll(source: TensorSource): Promise<MemoryWeights> {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  try {
    for (const [name, tensor] of source.tensors) tensors[name] = { shape: [...tensor.shape], data: await source.readFloat32(name) };
  } finally {
    await source.close();
  }
  return new MemoryWeights(tensors);
}
