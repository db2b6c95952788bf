import type { PositionTables } from '../generation/position-tables.js';
import type { TableWidths } from '../model/position-table-file.js';
import { resizeBilinear } from './bilinear-resize.js';

/**
 * Tables for an output size the converter did not precompute, from the native-grid tables (the
 * learned ones, unresized): the buffer rows unchanged, the image part resized bilinearly
 * (`align_corners=False`) in float64, as MAR's `get_*_pos_embed` does at run time.
 */
export function resizePositionTables(native: PositionTables, size: number, grid: number, bufferSize: number, widths: TableWidths): PositionTables {
  const from = { height: native.grid, width: native.grid };
  const to = { height: grid, width: grid };
  const withBuffers = (table: Float32Array, buffers: number, width: number) => {
    const out = new Float32Array((buffers + grid * grid) * width);
    out.set(table.subarray(0, buffers * width));
    out.set(resizeBilinear(table.subarray(buffers * width), from, to, width), buffers * width);
    return out;
  };
  return {
    size,
    grid,
    encoderPos: withBuffers(native.encoderPos, bufferSize, widths.encoderWidth),
    decoderPos: withBuffers(native.decoderPos, bufferSize, widths.decoderWidth),
    diffusionPos: withBuffers(native.diffusionPos, 0, widths.decoderWidth),
  };
}
