/**
 * One layer's key or value buffer of an in-place KV cache, `[rows · heads, …]` with `capacity`
 * slots of `headDim` floats per head, in either orientation: `slots-major` (`[capacity, headDim]`
 * per head: a slot's floats are contiguous) or `dims-major` (`[headDim, capacity]`: stored
 * transposed, a slot is one column).
 */
export type SlotOrientation = 'slots-major' | 'dims-major';

export interface SlotBufferShape {
  readonly orientation: SlotOrientation;
  /** rows × key/value heads. */
  readonly heads: number;
  readonly headDim: number;
}

/** Writes `[heads, length, headDim]` (a run's new keys or values) into slots `first …` of `buffer`. */
export function writeSlots(buffer: Float32Array, capacity: number, shape: SlotBufferShape, source: Float32Array, first: number, length: number): void {
  const { heads, headDim } = shape;
  for (let head = 0; head < heads; head++) {
    if (shape.orientation === 'slots-major') {
      buffer.set(source.subarray(head * length * headDim, (head + 1) * length * headDim), (head * capacity + first) * headDim);
      continue;
    }
    for (let position = 0; position < length; position++) {
      const from = (head * length + position) * headDim;
      const base = head * headDim * capacity + first + position;
      for (let d = 0; d < headDim; d++) buffer[base + d * capacity] = source[from + d];
    }
  }
}

/** A buffer of `capacity` slots holding the first `filled` slots of `old` (which has `oldCapacity`). */
export function regrowSlots(old: Float32Array | undefined, oldCapacity: number, capacity: number, shape: SlotBufferShape, filled: number): Float32Array {
  const { heads, headDim } = shape;
  const grown = new Float32Array(heads * headDim * capacity);
  if (!old || filled === 0) return grown;
  for (let head = 0; head < heads; head++) {
    if (shape.orientation === 'slots-major') {
      const from = head * oldCapacity * headDim;
      grown.set(old.subarray(from, from + filled * headDim), head * capacity * headDim);
      continue;
    }
    for (let d = 0; d < headDim; d++) {
      const from = (head * headDim + d) * oldCapacity;
      grown.set(old.subarray(from, from + filled), (head * headDim + d) * capacity);
    }
  }
  return grown;
}

/** The dims of a buffer fed to the graph: `[rows, heads, capacity, headDim]` or `[rows, heads, headDim, capacity]`. */
export function slotBufferDims(orientation: SlotOrientation, rows: number, heads: number, headDim: number, capacity: number): number[] {
  return orientation === 'slots-major' ? [rows, heads, capacity, headDim] : [rows, heads, headDim, capacity];
}
