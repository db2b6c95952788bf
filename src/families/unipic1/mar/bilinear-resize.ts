import { InvalidOptionsError } from '../../../errors/invalid-options-error.js';

/**
 * Bilinear resampling of a token-major grid (`[height·width, channels]`, raster order) with the
 * semantics of PyTorch `F.interpolate(mode='bilinear', align_corners=False)` without antialias,
 * when called with an output `size` (so the scale is `in/out`, not a user scale factor).
 *
 * Everything is computed in float64; callers cast once at the end.
 */

export interface GridShape {
  readonly height: number;
  readonly width: number;
}

/** One output coordinate's two source taps and their weights along one axis. */
interface AxisTap {
  readonly low: number;
  readonly high: number;
  readonly lowWeight: number;
  readonly highWeight: number;
}

/**
 * PyTorch's `area_pixel_compute_source_index` for align_corners=False: the half-pixel centre
 * mapping, clamped below at 0. Above, the high tap is clamped to the last row, so coordinates past
 * the last centre reproduce the edge value exactly.
 */
function axisTaps(sourceSize: number, targetSize: number): AxisTap[] {
  const scale = sourceSize / targetSize;
  const taps: AxisTap[] = [];
  for (let index = 0; index < targetSize; index++) {
    const source = Math.max(scale * (index + 0.5) - 0.5, 0);
    const low = Math.floor(source);
    const high = low < sourceSize - 1 ? low + 1 : low;
    const highWeight = source - low;
    taps.push({ low, high, lowWeight: 1 - highWeight, highWeight });
  }
  return taps;
}

function checkGrid(name: string, grid: GridShape): void {
  if (!Number.isInteger(grid.height) || !Number.isInteger(grid.width) || grid.height < 1 || grid.width < 1) {
    throw new InvalidOptionsError(`${name} grid must have positive integer sides, got ${grid.height}×${grid.width}`);
  }
}

/**
 * Resample `values` (`[source.height·source.width, channels]`) to `[target.height·target.width,
 * channels]`. Same-size input is returned as an exact float64 copy, as PyTorch's weights are then
 * exactly (1, 0).
 */
export function resizeBilinear(values: ArrayLike<number>, source: GridShape, target: GridShape, channels: number): Float64Array {
  checkGrid('source', source);
  checkGrid('target', target);
  if (!Number.isInteger(channels) || channels < 1) {
    throw new InvalidOptionsError(`channels must be a positive integer, got ${channels}`);
  }
  const expected = source.height * source.width * channels;
  if (values.length !== expected) {
    throw new InvalidOptionsError(`expected ${expected} values for a ${source.height}×${source.width}×${channels} grid, got ${values.length}`);
  }
  const rowTaps = axisTaps(source.height, target.height);
  const columnTaps = axisTaps(source.width, target.width);
  const output = new Float64Array(target.height * target.width * channels);
  for (let y = 0; y < target.height; y++) {
    const row = rowTaps[y];
    for (let x = 0; x < target.width; x++) {
      const column = columnTaps[x];
      // PyTorch's order of combination: blend along width on each source row, then along height.
      const topLeft = (row.low * source.width + column.low) * channels;
      const topRight = (row.low * source.width + column.high) * channels;
      const bottomLeft = (row.high * source.width + column.low) * channels;
      const bottomRight = (row.high * source.width + column.high) * channels;
      const outputOffset = (y * target.width + x) * channels;
      for (let c = 0; c < channels; c++) {
        const top = column.lowWeight * values[topLeft + c] + column.highWeight * values[topRight + c];
        const bottom = column.lowWeight * values[bottomLeft + c] + column.highWeight * values[bottomRight + c];
        output[outputOffset + c] = row.lowWeight * top + row.highWeight * bottom;
      }
    }
  }
  return output;
}
