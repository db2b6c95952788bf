/** An image's vision grid in patches (`grid_thw[1:]`); the LLM sees `gridH/merge × gridW/merge` tokens. */
export interface VisionGrid {
  readonly gridH: number;
  readonly gridW: number;
}

/**
 * Multimodal rotary positions (Qwen2.5-VL `get_rope_index`): text tokens count up on all
 * three rows; the k-th run of image tokens (the k-th grid of `grids`, a single grid for a one-image
 * prompt) gets t = 0, h = row, w = column, each offset by the position where the block starts; text
 * after it resumes at max + 1. Returns `[3, S]` (t, h, w rows) and `delta` = next position − S, the
 * offset decode steps add to their index. Refuses grids left over (fewer image blocks than grids).
 */
export function mropePositions(
  ids: ArrayLike<number>,
  imageTokenId: number,
  grids?: VisionGrid | readonly VisionGrid[],
  mergeSize = 2,
): { positions: Int32Array[]; delta: number } {
  const length = ids.length;
  const rows = [new Int32Array(length), new Int32Array(length), new Int32Array(length)];
  const queue = grids === undefined ? [] : 'gridH' in grids ? [grids] : [...grids];
  let image = 0;
  let next = 0;
  let i = 0;
  while (i < length) {
    if (ids[i] === imageTokenId && image < queue.length) {
      const grid = queue[image++];
      const h = grid.gridH / mergeSize;
      const w = grid.gridW / mergeSize;
      let last = next;
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < w; c++, i++) {
          if (ids[i] !== imageTokenId) throw new RangeError(`expected ${h * w} image tokens at ${i - r * w - c}`);
          rows[0][i] = next;
          rows[1][i] = next + r;
          rows[2][i] = next + c;
          last = Math.max(last, next + r, next + c);
        }
      }
      next = last + 1;
      continue;
    }
    rows[0][i] = rows[1][i] = rows[2][i] = next++;
    i++;
  }
  if (image !== queue.length) throw new RangeError(`the prompt has ${image} image blocks, ${queue.length} grids were given`);
  return { positions: rows, delta: next - length };
}

/**
 * Per-token rotary angles `[S, headDim/2]` for the LLM from 3-row positions: frequency slot j uses
 * the t, h or w row as `sections` splits the slots (M-RoPE); equal rows give ordinary 1-D RoPE.
 */
export function mropeAngles(positions: readonly Int32Array[], sections: readonly number[], inverseFrequencies: Float32Array): Float32Array {
  const half = inverseFrequencies.length;
  if (sections.reduce((a, b) => a + b, 0) !== half) throw new RangeError(`mrope sections ${sections.join(',')} do not sum to ${half}`);
  const rowOf = new Int32Array(half);
  let j = 0;
  sections.forEach((size, row) => {
    for (let k = 0; k < size; k++) rowOf[j++] = row;
  });
  const length = positions[0].length;
  const out = new Float32Array(length * half);
  for (let s = 0; s < length; s++) for (let f = 0; f < half; f++) out[s * half + f] = Math.fround(positions[rowOf[f]][s] * inverseFrequencies[f]);
  return out;
}
