import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MemoryWeights } from '../../../../../src/convert/graphs/weights.js';
import { openCheckpoint } from '../../../../../src/families/unipic1/convert/open-checkpoint.js';
import { openSafetensorsFile } from '../../../../../src/convert/readers/safetensors-file-reader.js';

/** Access to the PyTorch oracle's committed fixtures (tools/reference → test/fixtures/reference). */

const ROOT = fileURLToPath(new URL('../../../../fixtures/reference/', import.meta.url));

interface IndexEntry {
  file: string;
  shape: number[];
  dtype: string;
}

const index = JSON.parse(readFileSync(`${ROOT}index.json`, 'utf8')) as {
  tensors: Record<string, IndexEntry>;
  tolerances: { float32RelativeToMaxAbs: number };
};

export interface GoldenFloat {
  shape: number[];
  data: Float32Array;
}

export async function readGoldenFloat(name: string): Promise<GoldenFloat> {
  const entry = lookup(name, 'float32');
  const file = await openSafetensorsFile(`${ROOT}${entry.file}`);
  try {
    return { shape: entry.shape, data: await file.readFloat32(name) };
  } finally {
    await file.close();
  }
}

export async function readGoldenInt64(name: string): Promise<{ shape: number[]; data: BigInt64Array }> {
  const entry = lookup(name, 'int64');
  const file = await openSafetensorsFile(`${ROOT}${entry.file}`);
  try {
    const bytes = await file.readBytes(name);
    return { shape: entry.shape, data: new BigInt64Array(bytes.slice().buffer) };
  } finally {
    await file.close();
  }
}

function lookup(name: string, dtype: string): IndexEntry {
  const entry = index.tensors[name];
  if (!entry) throw new Error(`no golden tensor ${name}`);
  if (entry.dtype !== dtype) throw new Error(`golden ${name} is ${entry.dtype}, expected ${dtype}`);
  return entry;
}

/**
 * The oracle's rule: |actual − expected| ≤ 1e-4 · max(1, max|expected|) per tensor. Returns the
 * worst |difference| divided by that allowance's scale, so < 1e-4 passes.
 */
export function goldenError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let scale = 1;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    const difference = Math.abs(actual[i] - expected[i]);
    if (!(difference <= worst)) worst = Number.isNaN(difference) ? Number.POSITIVE_INFINITY : difference;
  }
  return worst / scale;
}

export const GOLDEN_TOLERANCE = index.tolerances.float32RelativeToMaxAbs;

/** The tiny checkpoint (official file formats), read through the converter's readers. */
export async function tinyCheckpointWeights(keep: (key: string) => boolean): Promise<MemoryWeights> {
  const checkpoint = await openCheckpoint(`${ROOT}checkpoint`);
  try {
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, descriptor] of checkpoint.tensors) {
      if (keep(name)) tensors[name] = { shape: [...descriptor.shape], data: await checkpoint.readFloat32(name) };
    }
    return new MemoryWeights(tensors);
  } finally {
    await checkpoint.close();
  }
}
