import { InvalidInputError } from '../../errors/invalid-input-error.js';
import { resizeLikePillow } from '../image/pillow-resize.js';
import type { RgbImage } from '../image/rgb-image.js';

/** Python's `round` (half to even) for the size rule below. */
function pythonRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The editing script's `fix_longer_edge(image, image_size=512, factor=32)` (`unipic2_sd35m_kontext_editing.py`): the longer
 * side becomes `edge`, the other `round(other·edge/longer / multiple)·multiple` with Python's
 * half-to-even `round` (1024×800 → 512×384; `Math.round` would give 416). A result of 0 (a very
 * thin image) is refused, as Pillow refuses it.
 */
export function fixLongerEdgeSize(width: number, height: number, edge = 512, multiple = 32): { width: number; height: number } {
  const size =
    width >= height
      ? { width: edge, height: pythonRound((height * (edge / width)) / multiple) * multiple }
      : { width: pythonRound((width * (edge / height)) / multiple) * multiple, height: edge };
  if (size.width <= 0 || size.height <= 0) {
    throw new InvalidInputError(`a ${width}×${height} image is too thin to edit: its short side would be 0 after resizing the long side to ${edge}`);
  }
  return size;
}

/**
 * The reference image resized as the script does (Pillow bicubic): `sized` (what a VLM-conditioned
 * family also shows its VLM) and `pixels`, `[1, 3, H, W]` in [−1, 1].
 */
export function referencePixels(image: RgbImage, edge: number, multiple: number): { pixels: Float32Array; sized: RgbImage; width: number; height: number } {
  const size = fixLongerEdgeSize(image.width, image.height, edge, multiple);
  const sized = resizeLikePillow(image, size.width, size.height);
  return { pixels: signedPixels(sized), sized, width: size.width, height: size.height };
}

/** An image as `[3, H, W]` in [−1, 1]: ToTensor / `VaeImageProcessor` (÷255 in float32), then ·2 − 1. */
export function signedPixels(image: RgbImage): Float32Array {
  const plane = image.width * image.height;
  const pixels = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) pixels[c * plane + i] = Math.fround(Math.fround(image.data[i * 3 + c] / 255) * 2 - 1);
  return pixels;
}
