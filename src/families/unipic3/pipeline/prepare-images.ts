import { resizeLikePillow } from '../../../core/image/pillow-resize.js';
import type { RgbImage } from '../../../core/image/rgb-image.js';
import { budgetSizes, roundHalfEven, visionSize } from '../latents/input-sizing.js';

/** Each input as the official pipeline sees it: the budget-sized copy (VAE) and its VL copy (vision tower). */
export interface PreparedImage {
  readonly sized: RgbImage;
  readonly vl: RgbImage;
}

/**
 * The official two Pillow resizes (`pipeline_qwenimage_edit.py` — `round(w·ratio)` with the shared 1024² ratio,
 * then to multiples of 32), and the VL copy at `round(w·28/32) × round(h·28/32)`.
 */
export function prepareImages(inputs: readonly RgbImage[]): PreparedImage[] {
  const sizes = budgetSizes(inputs);
  const ratio = 1024 / Math.sqrt(inputs.reduce((sum, s) => sum + s.width * s.height, 0));
  return inputs.map((image, k) => {
    const first = resizeLikePillow(image, roundHalfEven(image.width * ratio), roundHalfEven(image.height * ratio));
    const sized = resizeLikePillow(first, sizes[k].width, sizes[k].height);
    const vl = visionSize(sized);
    return { sized, vl: resizeLikePillow(sized, vl.width, vl.height) };
  });
}
