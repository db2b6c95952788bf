import { InvalidInputError } from '../../errors/invalid-input-error.js';
import { PRECISION_BITS, axisCoefficients, type AxisCoefficients } from './resample-coefficients.js';
import type { RgbImage } from './rgb-image.js';

const HALF = 1 << (PRECISION_BITS - 1);

/** Pillow's clip8: the accumulator's integer part (arithmetic shift, so negatives floor), clamped. */
function clip8(accumulator: number): number {
  const value = accumulator >> PRECISION_BITS;
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/*
 * Sums stay exact: 255 × the absolute weight sum (< 1.3 × 2^22 for bicubic) is far inside int32,
 * which is also what Pillow's `int` accumulator relies on.
 */
function horizontalPass(source: RgbImage, rowOffset: number, rows: number, axis: AxisCoefficients, outWidth: number): Uint8Array {
  const out = new Uint8Array(outWidth * rows * 3);
  const { weights, first, count, kernelSize } = axis;
  for (let y = 0; y < rows; y++) {
    const sourceRow = (y + rowOffset) * source.width * 3;
    for (let x = 0; x < outWidth; x++) {
      let red = HALF;
      let green = HALF;
      let blue = HALF;
      const base = x * kernelSize;
      let pixel = sourceRow + first[x] * 3;
      for (let k = 0; k < count[x]; k++, pixel += 3) {
        const weight = weights[base + k];
        red += source.data[pixel] * weight;
        green += source.data[pixel + 1] * weight;
        blue += source.data[pixel + 2] * weight;
      }
      const target = (y * outWidth + x) * 3;
      out[target] = clip8(red);
      out[target + 1] = clip8(green);
      out[target + 2] = clip8(blue);
    }
  }
  return out;
}

function verticalPass(source: RgbImage, axis: AxisCoefficients, rowShift: number, outHeight: number): Uint8Array {
  const width = source.width;
  const out = new Uint8Array(width * outHeight * 3);
  const { weights, first, count, kernelSize } = axis;
  const stride = width * 3;
  for (let y = 0; y < outHeight; y++) {
    const base = y * kernelSize;
    const top = first[y] - rowShift;
    for (let x = 0; x < width; x++) {
      let red = HALF;
      let green = HALF;
      let blue = HALF;
      let pixel = top * stride + x * 3;
      for (let k = 0; k < count[y]; k++, pixel += stride) {
        const weight = weights[base + k];
        red += source.data[pixel] * weight;
        green += source.data[pixel + 1] * weight;
        blue += source.data[pixel + 2] * weight;
      }
      const target = (y * width + x) * 3;
      out[target] = clip8(red);
      out[target + 1] = clip8(green);
      out[target + 2] = clip8(blue);
    }
  }
  return out;
}

/**
 * `Image.resize((width, height))` for an RGB image with Pillow's default filter (BICUBIC,
 * antialiased when shrinking), bit-exact: horizontal pass over only the rows the vertical pass
 * will read, then the vertical pass, each in 22-bit fixed point with Pillow's rounding.
 */
export function resizeLikePillow(image: RgbImage, width: number, height: number): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new InvalidInputError(`resize target must be positive integers, got ${width}×${height}`);
  }
  if (image.width === width && image.height === height) return { width, height, data: image.data.slice() };

  const vertical = axisCoefficients(image.height, height);
  let current = image;
  let rowShift = 0;
  if (width !== image.width) {
    // Only rows between the first and last the vertical filter touches are resampled.
    const firstRow = vertical.first[0];
    const lastRow = vertical.first[height - 1] + vertical.count[height - 1];
    const horizontal = axisCoefficients(image.width, width);
    current = { width, height: lastRow - firstRow, data: horizontalPass(image, firstRow, lastRow - firstRow, horizontal, width) };
    rowShift = firstRow;
  }
  if (height !== image.height) {
    current = { width: current.width, height, data: verticalPass(current, vertical, rowShift, height) };
  }
  return current;
}
