import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors } from '../../src/formats/safetensors.js';

/** An oracle fixture folder's `index.json`: where each golden tensor lives, its shape and dtype. */
export interface GoldenIndex {
  tensors: Record<string, { file: string; shape: number[]; dtype: string }>;
}

/** Reads golden tensors of a fixture folder by name (each safetensors file decoded once). */
export function goldenStore<Index extends GoldenIndex>(root: string) {
  const index = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')) as Index;
  const files = new Map<string, ReturnType<typeof decodeSafetensors>>();
  function tensorBytes(name: string, dtype: string): { shape: number[]; bytes: Uint8Array } {
    const entry = index.tensors[name];
    if (!entry) throw new Error(`no golden tensor ${name}`);
    if (entry.dtype !== dtype) throw new Error(`golden ${name} is ${entry.dtype}, not ${dtype}`);
    let file = files.get(entry.file);
    if (!file) {
      file = decodeSafetensors(new Uint8Array(readFileSync(join(root, entry.file))), entry.file);
      files.set(entry.file, file);
    }
    const tensor = file.tensors.get(name);
    if (!tensor) throw new Error(`${entry.file} lacks ${name}`);
    return { shape: entry.shape, bytes: tensor.bytes.slice() };
  }
  return { index, tensorBytes };
}

/**
 * The oracle's float32 rule: max|actual − expected| / max(1, max|expected|). A value ≤ 1e-4 passes
 * (the oracle measured its own float32-vs-float64 error at ≤ 3.5e-6).
 */
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
