import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryWeights } from '../../../../src/convert/graphs/weights.js';
import type { TensorSource } from '../../../../src/convert/readers/tensor-descriptor.js';
import { decodeSafetensors } from '../../../../src/formats/safetensors.js';

/** The UniPic-3 oracle's committed fixtures (tools/reference/unipic3_reference → test/fixtures/unipic3). */
export const UNIPIC3_ROOT = fileURLToPath(new URL('../../../fixtures/unipic3/', import.meta.url));
export const UNIPIC3_CHECKPOINT = join(UNIPIC3_ROOT, 'checkpoint');

interface Index {
  tensors: Record<string, { file: string; shape: number[]; dtype: string }>;
  report: Record<string, unknown>;
}
export const unipic3Index = JSON.parse(readFileSync(join(UNIPIC3_ROOT, 'index.json'), 'utf8')) as Index;

const files = new Map<string, ReturnType<typeof decodeSafetensors>>();

function bytesOf(name: string, dtype: string): Uint8Array {
  const entry = unipic3Index.tensors[name];
  if (!entry) throw new Error(`no golden tensor ${name}`);
  if (entry.dtype !== dtype) throw new Error(`golden ${name} is ${entry.dtype}, not ${dtype}`);
  let file = files.get(entry.file);
  if (!file) {
    file = decodeSafetensors(new Uint8Array(readFileSync(join(UNIPIC3_ROOT, entry.file))), entry.file);
    files.set(entry.file, file);
  }
  const tensor = file.tensors.get(name);
  if (!tensor) throw new Error(`${entry.file} lacks ${name}`);
  return tensor.bytes.slice();
}

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

/** max|a − e| / max(1, max|e|), the oracle's float32 rule (pass ≤ 1e-4). */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs expected ${expected.length}`);
  let scale = 1;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    const difference = Math.abs(actual[i] - expected[i]);
    worst = Number.isNaN(difference) ? Number.POSITIVE_INFINITY : Math.max(worst, difference);
  }
  return worst / scale;
}

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
