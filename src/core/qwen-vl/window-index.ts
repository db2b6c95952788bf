/**
 * Qwen2.5-VL window layout for one image (transformers `get_window_index`): merge units (2×2 patches) are
 * grouped into windows of `windowUnits`×`windowUnits` units, row-major over windows; edge windows are
 * partial. `windowIndex[k]` is the merge unit that goes to window-ordered slot k; `cuWindowSeqlens`
 * are the cumulative patch counts at window borders (empty windows — which torch's padding creates
 * when a side is an exact multiple — contribute no duplicate entries, as unique_consecutive removes them).
 */
export interface WindowLayout {
  readonly windowIndex: Int32Array;
  readonly cuWindowSeqlens: number[];
  /** Whole-image attention borders: [0, patches]. */
  readonly cuSeqlens: number[];
}

export function windowLayout(gridH: number, gridW: number, options: { windowSize?: number; patchSize?: number; mergeSize?: number } = {}): WindowLayout {
  const merge = options.mergeSize ?? 2;
  const units = (options.windowSize ?? 112) / merge / (options.patchSize ?? 14);
  const unitArea = merge * merge;
  const rows = gridH / merge;
  const cols = gridW / merge;
  const windowIndex = new Int32Array(rows * cols);
  const cuWindowSeqlens = [0];
  let k = 0;
  for (let wr = 0; wr < Math.ceil(rows / units); wr++) {
    for (let wc = 0; wc < Math.ceil(cols / units); wc++) {
      for (let r = wr * units; r < Math.min(rows, (wr + 1) * units); r++) {
        for (let c = wc * units; c < Math.min(cols, (wc + 1) * units); c++) windowIndex[k++] = r * cols + c;
      }
      const border = k * unitArea;
      if (border !== cuWindowSeqlens[cuWindowSeqlens.length - 1]) cuWindowSeqlens.push(border);
    }
  }
  return { windowIndex, cuWindowSeqlens, cuSeqlens: [0, gridH * gridW] };
}

/** Patch-level permutation: patch row k of the window order is patch `patchOrder[k]` of the input. */
export function patchOrder(windowIndex: Int32Array, unitArea = 4): Int32Array {
  const out = new Int32Array(windowIndex.length * unitArea);
  for (let k = 0; k < windowIndex.length; k++) for (let j = 0; j < unitArea; j++) out[k * unitArea + j] = windowIndex[k] * unitArea + j;
  return out;
}

/** Inverse of the merge-unit permutation (argsort of windowIndex). */
export function inverseOrder(windowIndex: Int32Array): Int32Array {
  const out = new Int32Array(windowIndex.length);
  for (let k = 0; k < windowIndex.length; k++) out[windowIndex[k]] = k;
  return out;
}
