import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yazl from 'yazl';
import { DTYPE_BYTE_SIZE, type TensorDtype } from '../../../../src/formats/tensor-dtype.js';

/** A fresh temporary folder, removed by the returned cleanup. */
export async function temporaryFolder(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'unipic-readers-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A zip with exactly the given entries (for hostile archives the writer would never produce). */
export async function writeZip(
  path: string,
  entries: ReadonlyArray<readonly [string, Uint8Array | string]>,
  options: { compress?: readonly string[] } = {},
): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of entries) {
    zip.addBuffer(typeof data === 'string' ? Buffer.from(data) : Buffer.from(data), name, {
      compress: options.compress?.includes(name) ?? false,
      mtime: new Date(0),
    });
  }
  await new Promise<void>((resolve, reject) => {
    const output = createWriteStream(path);
    output.on('close', resolve);
    output.on('error', reject);
    zip.outputStream.pipe(output);
    zip.end();
  });
}

/** Deterministic pseudo-random bytes (a 32-bit LCG) so failures reproduce. */
export function patternBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

/**
 * Oracle for a strided view, independent of the SDK's gather: element k of the row-major
 * output is storage element offset + Σ index_axis(k) · stride_axis, copied byte by byte.
 */
export function naiveViewBytes(storage: Uint8Array, dtype: TensorDtype, shape: readonly number[], stride: readonly number[], offset: number): Uint8Array {
  const itemSize = DTYPE_BYTE_SIZE[dtype];
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(count * itemSize);
  for (let flat = 0; flat < count; flat++) {
    let rest = flat;
    let element = offset;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      element += (rest % shape[axis]) * stride[axis];
      rest = Math.floor(rest / shape[axis]);
    }
    out.set(storage.subarray(element * itemSize, (element + 1) * itemSize), flat * itemSize);
  }
  return out;
}
