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

/**
 * Reusable buffers for the strips fed to ORT, one per role (a stage's input, its skip): a strip run
 * reads its feeds only while it runs, so the next strip — of this stage or a later one — can
 * overwrite them. A new 32 MB array per strip costs page faults and zeroing, and dead ones wait for
 * the garbage collector, in RSS; one buffer per stage would keep a stage's worth each.
 */
export class StripBuffers {
  private readonly buffers = new Map<string, Float32Array>();

  /** A buffer of exactly `length` values for the role `name` (contents undefined). */
  take(name: string, length: number): Float32Array {
    let buffer = this.buffers.get(name);
    if (!buffer || buffer.length < length) {
      buffer = new Float32Array(length);
      this.buffers.set(name, buffer);
    }
    return buffer.length === length ? buffer : buffer.subarray(0, length);
  }
}

/**
 * Rows `[first, last)` of a plane as `[1, C, rows, W]`, zero outside the image; into `buffers`'
 * buffer for `name` when given.
 */
export function rowsWithHalo(plane: Plane, first: number, last: number, buffers?: StripBuffers, name = ''): HostTensor {
  const { channels, height, width, data } = plane;
  const rows = last - first;
  const out = buffers ? buffers.take(name, channels * rows * width) : new Float32Array(channels * rows * width);
  const from = Math.max(0, first);
  const to = Math.min(height, last);
  for (let c = 0; c < channels; c++) {
    const base = c * rows * width;
    if (to > from) out.set(data.subarray((c * height + from) * width, (c * height + to) * width), base + (from - first) * width);
    // A reused buffer holds the previous strip: the rows outside the image are zeroed here.
    if (buffers && from > first) out.fill(0, base, base + Math.min(rows, from - first) * width);
    if (buffers && last > to) out.fill(0, base + Math.max(0, to - first) * width, base + rows * width);
  }
  return float32([1, channels, rows, width], out);
}

/** Writes a `[C, rows, W]` strip into rows `[top, top + rows)` of `plane`. */
export function copyRows(strip: Float32Array, rows: number, plane: Plane, top: number): void {
  const { channels, height, width, data } = plane;
  if (strip.length !== channels * rows * width) throw new InvalidModelError(`strip of ${strip.length} values, expected ${channels}×${rows}×${width}`);
  for (let c = 0; c < channels; c++) data.set(strip.subarray(c * rows * width, (c + 1) * rows * width), (c * height + top) * width);
}

/** How a strip encoder or decoder cuts the image into runs. */
export interface StripOptions {
  /**
   * Output elements per strip run (default 2²²: 16 MB strips, ~6% of halo rows recomputed at
   * 1024 px; half of 2²³'s working memory kept by the session's arena for no measured time cost,
   * docs/performance.md, "Strip VAE encoder").
   */
  readonly stripElements?: number;
  /** Output rows per strip, overriding `stripElements` (tests). */
  readonly stripRows?: number;
  readonly signal?: AbortSignal;
}

const DEFAULT_STRIP_ELEMENTS = 1 << 22;

/** Rows per strip run for an output of `elementsPerRow` elements per row (at least one). */
export function rowsPerStrip(options: StripOptions, elementsPerRow: number): number {
  return options.stripRows ?? Math.max(1, Math.floor((options.stripElements ?? DEFAULT_STRIP_ELEMENTS) / elementsPerRow));
}
