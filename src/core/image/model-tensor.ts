import { InvalidInputError } from '../../errors/invalid-input-error.js';
import { resizeLikePillow } from './pillow-resize.js';
import type { RgbImage } from './rgb-image.js';
import { crop2square, expand2square } from './square.js';

/** value for each byte: 2·(x/255) − 1 rounded to float32 at each step, as torch computes it on CPU. */
const NORMALIZED = Float32Array.from({ length: 256 }, (_, x) => Math.fround(Math.fround(2 * Math.fround(x / 255)) - 1));

/**
 * A square RGB image → the VAE encoder's input: Float32Array laid out [1, 3, S, S] (planar,
 * channel-major), each value 2·(x/255) − 1 in [−1, 1].
 */
export function toModelTensor(image: RgbImage, size: number): Float32Array {
  if (image.width !== size || image.height !== size) {
    throw new InvalidInputError(`toModelTensor needs a ${size}×${size} image, got ${image.width}×${image.height}; resize it first`);
  }
  const plane = size * size;
  const tensor = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    tensor[i] = NORMALIZED[image.data[i * 3]];
    tensor[plane + i] = NORMALIZED[image.data[i * 3 + 1]];
    tensor[2 * plane + i] = NORMALIZED[image.data[i * 3 + 2]];
  }
  return tensor;
}

/** Official image_edit.py: crop2square, Pillow resize to S×S, normalise. */
export function preprocessForEdit(image: RgbImage, size: number): Float32Array {
  return toModelTensor(resizeLikePillow(crop2square(image), size, size), size);
}

/** Official image2text.py: expand2square with (127,127,127), Pillow resize to S×S, normalise. */
export function preprocessForUnderstanding(image: RgbImage, size: number): Float32Array {
  return toModelTensor(resizeLikePillow(expand2square(image), size, size), size);
}
