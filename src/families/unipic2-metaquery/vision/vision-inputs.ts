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
  /** Window number of each window-ordered patch. */
  readonly windowIds: Int32Array;
  readonly mergedOrder: Int32Array;
}

export function visionInputs(gridH: number, gridW: number, geometry: VisionGeometry): VisionInputs {
  const merge = geometry.spatialMergeSize;
  const layout = windowLayout(gridH, gridW, { windowSize: geometry.windowSize, patchSize: geometry.patchSize, mergeSize: merge });
  const windowIds = new Int32Array(gridH * gridW);
  for (let w = 0; w + 1 < layout.cuWindowSeqlens.length; w++) windowIds.fill(w, layout.cuWindowSeqlens[w], layout.cuWindowSeqlens[w + 1]);
  return {
    patchOrder: patchOrder(layout.windowIndex, merge * merge),
    rotaryAngles: visionRotaryAngles(gridH, gridW, geometry.headDim, merge),
    windowIds,
    mergedOrder: inverseOrder(layout.windowIndex),
  };
}
