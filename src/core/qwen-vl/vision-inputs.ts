import { inverseOrder, patchOrder, windowLayout } from './window-index.js';
import { visionRotaryAngles } from './vision-rotary.js';

/** The vision tower's geometry numbers, as the runtime knows them from the manifest. */
export interface VisionGeometry {
  readonly headDim: number;
  readonly patchSize: number;
  readonly spatialMergeSize: number;
  readonly windowSize: number;
}

/** Host-side inputs of the `vision` graph for one image of `gridH × gridW` patches. */
export interface VisionInputs {
  readonly patchOrder: Int32Array;
  readonly rotaryAngles: Float32Array;
  /**
   * Windowed attention as a batch of windows padded to `slotsPerWindow` patches: for each slot
   * (window-major), the window-ordered patch it holds (0 for padding); `windowKeyValid` 1/0 per slot;
   * `windowUnslots` maps each window-ordered patch back to its slot.
   */
  readonly windowSlots: Int32Array;
  readonly windowKeyValid: Int32Array;
  readonly windowUnslots: Int32Array;
  readonly windows: number;
  readonly slotsPerWindow: number;
  readonly mergedOrder: Int32Array;
}

export function visionInputs(gridH: number, gridW: number, geometry: VisionGeometry): VisionInputs {
  const merge = geometry.spatialMergeSize;
  const layout = windowLayout(gridH, gridW, { windowSize: geometry.windowSize, patchSize: geometry.patchSize, mergeSize: merge });
  const slotsPerWindow = (geometry.windowSize / geometry.patchSize) ** 2;
  const windows = layout.cuWindowSeqlens.length - 1;
  const windowSlots = new Int32Array(windows * slotsPerWindow);
  const windowKeyValid = new Int32Array(windows * slotsPerWindow);
  const windowUnslots = new Int32Array(gridH * gridW);
  for (let w = 0; w < windows; w++) {
    const start = layout.cuWindowSeqlens[w];
    const size = layout.cuWindowSeqlens[w + 1] - start;
    for (let j = 0; j < size; j++) {
      windowSlots[w * slotsPerWindow + j] = start + j;
      windowKeyValid[w * slotsPerWindow + j] = 1;
      windowUnslots[start + j] = w * slotsPerWindow + j;
    }
  }
  return {
    patchOrder: patchOrder(layout.windowIndex, merge * merge),
    rotaryAngles: visionRotaryAngles(gridH, gridW, geometry.headDim, merge),
    windowSlots,
    windowKeyValid,
    windowUnslots,
    windows,
    slotsPerWindow,
    mergedOrder: inverseOrder(layout.windowIndex),
  };
}
