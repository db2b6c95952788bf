/**
 * SD3's 2-D sin-cos position table (diffusers `get_2d_sincos_pos_embed`), computed
 * for the crop a latent size needs instead of shipping the 147456 × 1536 buffer.
 */
export interface PositionTableConfig {
  /** Transformer width (the table has this many channels). */
  readonly width: number;
  /** `pos_embed_max_size`: side of the full table in patches. */
  readonly maxSize: number;
  /** `sample_size / patch_size`: the grid the coordinates are normalised to. */
  readonly baseSize: number;
  readonly interpolationScale: number;
  /**
   * How the checkpoint stores the table: `bfloat16` when it was saved in bf16 (the published
   * UniPic2 checkpoints; the conversion script round-trips the transformer through bf16), `float32`
   * for a table built and saved in float32. The converter detects it from the checkpoint.
   */
  readonly rounding: 'bfloat16' | 'float32';
}

/** Round-to-nearest-even to bfloat16, returned as the float32 value it stands for. */
export function roundToBfloat16(value: number): number {
  const view = new Float32Array([value]);
  const bits = new Uint32Array(view.buffer);
  const x = bits[0];
  if ((x & 0x7fffffff) > 0x7f800000) return value;
  bits[0] = ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) << 16;
  return view[0];
}

/**
 * Rows of the full table for the centred `gridHeight × gridWidth` patch crop, row-major (y, x),
 * `[gridHeight·gridWidth, width]` float32: channels `[sin(x·ω), cos(x·ω), sin(y·ω), cos(y·ω)]`
 * with `ω_k = 10000^(−k/(width/4))`. Coordinates are `i / (maxSize/baseSize) / scale` in float32
 * (torch `arange(float32) / …`), the products and sines in float64 (float32 · float64 promotes),
 * then float32, then bf16 when the checkpoint's table is bf16.
 */
export function cropPositionTable(config: PositionTableConfig, gridHeight: number, gridWidth: number): Float32Array {
  const { rows, columns } = positionAxes(config, gridHeight, gridWidth);
  const width = config.width;
  const table = new Float32Array(gridHeight * gridWidth * width);
  for (let y = 0; y < gridHeight; y++) {
    for (let x = 0; x < gridWidth; x++) {
      const at = (y * gridWidth + x) * width;
      table.set(columns[x], at);
      table.set(rows[y], at + width / 2);
    }
  }
  return table;
}

/**
 * The two halves the crop's rows are made of: `columns[x]` (the x encoding, first half of every
 * row) and `rows[y]` (the y encoding, second half), already rounded. Token (y, x) is
 * `[columns[x], rows[y]]`; checking a whole stored table needs only these.
 */
export function positionAxes(config: PositionTableConfig, gridHeight: number, gridWidth: number): { rows: Float32Array[]; columns: Float32Array[] } {
  const { width, maxSize } = config;
  if (width % 4 !== 0) throw new RangeError(`position table width ${width} is not a multiple of 4`);
  if (gridHeight > maxSize || gridWidth > maxSize || gridHeight < 1 || gridWidth < 1) {
    throw new RangeError(`a ${gridHeight}×${gridWidth} patch grid does not fit the ${maxSize}×${maxSize} position table`);
  }
  const quarter = width / 4;
  const omega = new Float64Array(quarter);
  for (let k = 0; k < quarter; k++) omega[k] = 1 / 10000 ** (k / (width / 4));
  const divisor = Math.fround(maxSize / config.baseSize);
  const coordinate = (i: number): number => {
    let c = Math.fround(i / divisor);
    if (config.interpolationScale !== 1) c = Math.fround(c / Math.fround(config.interpolationScale));
    return c;
  };
  const round = config.rounding === 'bfloat16' ? roundToBfloat16 : Math.fround;
  const top = Math.floor((maxSize - gridHeight) / 2);
  const left = Math.floor((maxSize - gridWidth) / 2);
  const axis = (position: number): Float32Array => {
    const out = new Float32Array(2 * quarter);
    for (let k = 0; k < quarter; k++) {
      const angle = position * omega[k];
      out[k] = round(Math.sin(angle));
      out[quarter + k] = round(Math.cos(angle));
    }
    return out;
  };
  return {
    rows: Array.from({ length: gridHeight }, (_, y) => axis(coordinate(top + y))),
    columns: Array.from({ length: gridWidth }, (_, x) => axis(coordinate(left + x))),
  };
}
