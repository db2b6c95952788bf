import type { Dtype } from '../../src/spec/manifest.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertCheckpoint } from '../../src/families/unipic1/convert/convert-checkpoint.js';
import { tinyCheckpointConfig } from '../../src/families/unipic1/convert/tiny/make-tiny.js';
import { decodeSafetensors } from '../../src/formats/safetensors.js';
import { rmSync, renameSync } from 'node:fs';

/** The PyTorch oracle's committed fixtures (tools/reference → test/fixtures/reference). */
export const REFERENCE_ROOT = fileURLToPath(new URL('../fixtures/reference/', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../.artifacts/', import.meta.url));

export interface RunInfo {
  readonly file: string;
  readonly prompt: string;
  readonly settings: {
    readonly imageSize: number;
    readonly numIter: number;
    readonly cfg: number;
    readonly cfgSchedule: 'constant' | 'linear';
    readonly temperature: number;
    readonly numImages: number;
  };
}

interface Index {
  tensors: Record<string, { file: string; shape: number[]; dtype: string }>;
  runs: Record<string, RunInfo>;
}
export const referenceIndex = JSON.parse(readFileSync(join(REFERENCE_ROOT, 'index.json'), 'utf8')) as Index;

const files = new Map<string, ReturnType<typeof decodeSafetensors>>();

function tensorBytes(name: string, dtype: string): { shape: number[]; bytes: Uint8Array } {
  const entry = referenceIndex.tensors[name];
  if (!entry) throw new Error(`no golden tensor ${name}`);
  if (entry.dtype !== dtype) throw new Error(`golden ${name} is ${entry.dtype}, not ${dtype}`);
  let file = files.get(entry.file);
  if (!file) {
    file = decodeSafetensors(new Uint8Array(readFileSync(join(REFERENCE_ROOT, entry.file))), entry.file);
    files.set(entry.file, file);
  }
  const tensor = file.tensors.get(name);
  if (!tensor) throw new Error(`${entry.file} lacks ${name}`);
  return { shape: entry.shape, bytes: tensor.bytes.slice() };
}

export function goldenFloat32(name: string): Float32Array {
  return new Float32Array(tensorBytes(name, 'float32').bytes.buffer);
}

export function goldenInt64(name: string): number[] {
  return Array.from(new BigInt64Array(tensorBytes(name, 'int64').bytes.buffer), Number);
}

export function goldenUint8(name: string): Uint8Array {
  return tensorBytes(name, 'uint8').bytes;
}

export function goldenShape(name: string): number[] {
  return referenceIndex.tensors[name].shape;
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

/**
 * The oracle's UniPic-1 variant (`checkpoint-variant`: narrow MAR decoder, untied head, GQA 3:1,
 * its own generation_config.json), converted with nothing but what the folder states: the
 * structure is inferred from the shapes, the Qwen config.json and the partial unipic-config.json.
 */
export async function variantModelDir(resolutions?: number[]): Promise<string> {
  const name = ['variant-model', ...(resolutions ? [resolutions.join('-')] : [])].join('-');
  const target = join(ARTIFACTS, name);
  if (existsSync(join(target, 'unipic.json'))) return target;
  const work = `${target}.${process.pid}.${Date.now()}`;
  await convertCheckpoint(join(REFERENCE_ROOT, 'checkpoint-variant'), work, resolutions ? { resolutions } : {});
  if (!existsSync(join(target, 'unipic.json'))) {
    rmSync(target, { recursive: true, force: true });
    renameSync(work, target);
  } else {
    rmSync(work, { recursive: true, force: true });
  }
  return target;
}

/** The oracle's tiny checkpoint converted by our converter (fp32), built once per checkout. */
export async function referenceModelDir(resolutions?: number[], dtypes: Dtype[] = ['fp32'], fusedSampler = false): Promise<string> {
  const name = [
    'reference-model',
    ...(resolutions ? [resolutions.join('-')] : []),
    ...(dtypes.join() === 'fp32' ? [] : dtypes),
    ...(fusedSampler ? ['fused'] : []),
  ].join('-');
  const target = join(ARTIFACTS, name);
  if (existsSync(join(target, 'unipic.json'))) return target;
  const work = `${target}.${process.pid}.${Date.now()}`;
  await convertCheckpoint(join(REFERENCE_ROOT, 'checkpoint'), work, {
    dtypes,
    structure: tinyCheckpointConfig(),
    fusedSampler,
    ...(resolutions ? { resolutions } : {}),
  });
  if (!existsSync(join(target, 'unipic.json'))) {
    rmSync(target, { recursive: true, force: true });
    renameSync(work, target);
  } else {
    rmSync(work, { recursive: true, force: true });
  }
  return target;
}
