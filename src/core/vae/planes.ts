import { InvalidModelError } from '../../errors/invalid-model-error.js';
import type { HostTensor } from '../../spec/backend.js';
import { float32 } from '../tensor.js';
import type { GroupStatistics } from './group-statistics.js';

/** A `[C, H, W]` image tensor held in JS between the passes of a strip VAE encoder or decoder. */
export interface Plane {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly data: Float32Array;
  stats?: GroupStatistics;
}

/** Rows `[first, last)` of a plane as `[1, C, rows, W]`, zero outside the image. */
export function rowsWithHalo(plane: Plane, first: number, last: number): HostTensor {
  const { channels, height, width, data } = plane;
  const rows = last - first;
  const out = new Float32Array(channels * rows * width);
  const from = Math.max(0, first);
  const to = Math.min(height, last);
  if (to > from) {
    for (let c = 0; c < channels; c++) {
      out.set(data.subarray((c * height + from) * width, (c * height + to) * width), (c * rows + (from - first)) * width);
    }
  }
  return float32([1, channels, rows, width], out);
}

/** Writes a `[C, rows, W]` strip into rows `[top, top + rows)` of `plane`. */
export function copyRows(strip: Float32Array, rows: number, plane: Plane, top: number): void {
  const { channels, height, width, data } = plane;
  if (strip.length !== channels * rows * width) throw new InvalidModelError(`strip of ${strip.length} values, expected ${channels}×${rows}×${width}`);
  for (let c = 0; c < channels; c++) data.set(strip.subarray(c * rows * width, (c + 1) * rows * width), (c * height + top) * width);
}
