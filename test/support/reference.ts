import type { Dtype } from '../../src/spec/manifest.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertCheckpoint } from '../../src/families/unipic1/convert/convert-checkpoint.js';
import { tinyCheckpointConfig } from '../../src/families/unipic1/convert/tiny/make-tiny.js';
import { goldenStore } from './golden-store.js';
import { publishFolder } from './publish-folder.js';

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
const store = goldenStore<Index>(REFERENCE_ROOT);
export const referenceIndex = store.index;
const tensorBytes = store.tensorBytes;

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

export { relativeError } from './golden-store.js';

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
  publishFolder(work, target, 'unipic.json');
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
  publishFolder(work, target, 'unipic.json');
  return target;
}
