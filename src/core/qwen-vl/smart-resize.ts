/**
 * Qwen2-VL `smart_resize` (transformers `image_processing_qwen2_vl.py`): both sides become multiples of `factor` (28 = patch 14 × merge
 * 2) with the pixel count inside [minPixels, maxPixels], keeping the aspect ratio as nearly as possible.
 * Python's round() is round-half-to-even; `roundHalfEven` reproduces it.
 */
export function smartResize(height: number, width: number, factor: number, minPixels: number, maxPixels: number): { height: number; width: number } {
  if (Math.max(height, width) / Math.min(height, width) > 200) throw new RangeError(`aspect ratio of ${width}x${height} exceeds 200`);
  let h = Math.max(factor, roundHalfEven(height / factor) * factor);
  let w = Math.max(factor, roundHalfEven(width / factor) * factor);
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    h = Math.max(factor, Math.floor(height / beta / factor) * factor);
    w = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  return { height: h, width: w };
}

/** The vision input size of the editing path: min = max = ⌊H·28/32 · W·28/32⌋ pixels (`unipic2_mq_editing.py`). */
export function editVisionPixels(height: number, width: number): number {
  return Math.trunc(((height * 28) / 32) * ((width * 28) / 32));
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
