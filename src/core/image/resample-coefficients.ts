/**
 * Filter weights for one axis of Pillow's two-pass resampler (libImaging/Resample.c,
 * precompute_coeffs + normalize_coeffs_8bpc), reproduced operation for operation: doubles where
 * Pillow uses doubles, C truncation where it casts to int, so the integer weights are identical.
 */

/** Pillow's 8-bit path keeps 22 fractional bits: 32 bits minus 8 for the pixel and 2 of headroom. */
export const PRECISION_BITS = 32 - 8 - 2;

/** Keys' cubic convolution kernel with a = −0.5 (Pillow's BICUBIC). */
export function bicubicKernel(distance: number): number {
  const a = -0.5;
  const x = distance < 0 ? -distance : distance;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}
export const BICUBIC_SUPPORT = 2;

export interface AxisCoefficients {
  /** Weights per output position, `kernelSize` slots each (unused slots are 0). */
  readonly weights: Int32Array;
  /** First input index per output position. */
  readonly first: Int32Array;
  /** Number of input samples per output position. */
  readonly count: Int32Array;
  readonly kernelSize: number;
}

/** Weights mapping `inSize` samples onto `outSize` over the whole axis (box 0..inSize). */
export function axisCoefficients(inSize: number, outSize: number): AxisCoefficients {
  // Pillow passes the box edges as C floats; whole-image boxes are exact integers there.
  const scale = inSize / outSize;
  const filterScale = scale < 1 ? 1 : scale;
  // Downscaling widens the kernel by the scale factor: this is the antialiasing.
  const support = BICUBIC_SUPPORT * filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const weights = new Int32Array(outSize * kernelSize);
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const doubles = new Float64Array(kernelSize);
  const inverseScale = 1 / filterScale;

  for (let out = 0; out < outSize; out++) {
    const center = (out + 0.5) * scale;
    let low = Math.trunc(center - support + 0.5);
    if (low < 0) low = 0;
    let high = Math.trunc(center + support + 0.5);
    if (high > inSize) high = inSize;
    const taps = high - low;
    let sum = 0;
    for (let x = 0; x < taps; x++) {
      const weight = bicubicKernel((x + low - center + 0.5) * inverseScale);
      doubles[x] = weight;
      sum += weight;
    }
    for (let x = 0; x < taps; x++) {
      const normalized = sum !== 0 ? doubles[x] / sum : doubles[x];
      // Round half away from zero into fixed point, through C's truncating cast.
      const fixed = normalized < 0 ? Math.trunc(-0.5 + normalized * (1 << PRECISION_BITS)) : Math.trunc(0.5 + normalized * (1 << PRECISION_BITS));
      weights[out * kernelSize + x] = fixed;
    }
    first[out] = low;
    count[out] = taps;
  }
  return { weights, first, count, kernelSize };
}
