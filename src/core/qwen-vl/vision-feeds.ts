import type { HostTensor } from '../../spec/backend.js';
import { float32, int64 } from '../tensor.js';
import type { PixelPatches } from './pixel-patches.js';
import { type VisionGeometry, visionInputs } from './vision-inputs.js';

/**
 * The `vision` graph's feeds for one image's patches (docs/model-format.md): the patch rows, the
 * window order, the 2-D rotary angles and the padded-window layout, all computed on the host.
 * `tokens` is the number of merged rows the graph returns (`image_embeds [tokens, outHidden]`).
 */
export function visionFeeds(patches: PixelPatches, geometry: VisionGeometry): { feeds: Record<string, HostTensor>; tokens: number; gridH: number; gridW: number } {
  const [, gridH, gridW] = patches.gridThw;
  const inputs = visionInputs(gridH, gridW, geometry);
  return {
    feeds: {
      pixel_values: float32([patches.rows, patches.rowWidth], patches.data),
      patch_order: int64([patches.rows], inputs.patchOrder),
      rotary_angles: float32([patches.rows, geometry.headDim / 2], inputs.rotaryAngles),
      window_slots: int64([inputs.windowSlots.length], inputs.windowSlots),
      window_key_valid: int64([inputs.windows, inputs.slotsPerWindow], inputs.windowKeyValid),
      window_unslots: int64([patches.rows], inputs.windowUnslots),
      merged_order: int64([inputs.mergedOrder.length], inputs.mergedOrder),
    },
    tokens: inputs.mergedOrder.length,
    gridH,
    gridW,
  };
}
