import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll } from 'vitest';
import { decodeSafetensors } from '../../../../src/formats/safetensors.js';

/** The Kontext oracle's fixtures (tools/reference/unipic2_reference → test/fixtures/kontext). */
export const KONTEXT_ROOT = fileURLToPath(new URL('../../../fixtures/kontext/', import.meta.url));
export const TINY_CHECKPOINT = join(KONTEXT_ROOT, 'checkpoint');

interface Index {
  tensors: Record<string, { file: string; shape: number[]; dtype: string }>;
  runs: Record<
    string,
    { height: number; width: number; steps: number; guidance: number; prompt: string; negativePrompt: string; textGoldens: { negative: string; positive: string } }
  >;
  preprocess: { cases: { input: [number, number]; output: [number, number] }[] };
}
export const kontextIndex = JSON.parse(readFileSync(join(KONTEXT_ROOT, 'index.json'), 'utf8')) as Index;

const files = new Map<string, ReturnType<typeof decodeSafetensors>>();

function golden(name: string, dtype: string): { shape: number[]; bytes: Uint8Array } {
  const entry = kontextIndex.tensors[name];
  if (!entry) throw new Error(`no golden tensor ${name}`);
  if (entry.dtype !== dtype) throw new Error(`golden ${name} is ${entry.dtype}, not ${dtype}`);
  let file = files.get(entry.file);
  if (!file) {
    file = decodeSafetensors(new Uint8Array(readFileSync(join(KONTEXT_ROOT, entry.file))), entry.file);
    files.set(entry.file, file);
  }
  const tensor = file.tensors.get(name);
  if (!tensor) throw new Error(`${entry.file} lacks ${name}`);
  return { shape: entry.shape, bytes: tensor.bytes.slice() };
}

export function goldenFloat(name: string): { shape: number[]; data: Float32Array } {
  const { shape, bytes } = golden(name, 'float32');
  return { shape, data: new Float32Array(bytes.buffer) };
}

export function goldenFloat64(name: string): Float64Array {
  return new Float64Array(golden(name, 'float64').bytes.buffer);
}

export function goldenInt64(name: string): number[] {
  return Array.from(new BigInt64Array(golden(name, 'int64').bytes.buffer), Number);
}

export function goldenUint8(name: string): { shape: number[]; data: Uint8Array } {
  return { shape: kontextIndex.tensors[name].shape, data: golden(name, 'uint8').bytes };
}

/** The README's rule: max|a − e| ≤ 1e-4 · max(1, max|e|); returns max|a − e| / max(1, max|e|). */
export function goldenError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let worst = 0;
  let scale = 1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    worst = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(worst, d);
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return worst / scale;
}

const created: string[] = [];
// Converted tiny models are 10–20 MB each: removed after the test file that made them (a root-level
// hook of every file importing this module).
afterAll(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function freshDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `unipic-kontext-${label}-`));
  created.push(dir);
  return dir;
}

export type OrtFeed = ort.Tensor;

export function float32Tensor(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export function int64Tensor(values: readonly number[], dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(v))), dims);
}

/** Runs one graph file of a converted folder once on ort-node CPU. */
export async function runGraphFile(path: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1 });
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { data: t.data as Float32Array, dims: t.dims }]));
  } finally {
    await session.release();
  }
}
