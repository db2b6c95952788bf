import type { RgbImage } from '../image/rgb-image.js';

/**
 * torch's uint8 antialiased bicubic resize (`F.interpolate(mode='bicubic', antialias=True)` on a
 * uint8 tensor, which torchvision's `resize` uses for uint8 input on CPU, and so does transformers'
 * fast Qwen2-VL image processor, which transformers 4.55 picks whenever torchvision is installed). It is Pillow's two-pass scheme with different integer
 * details: weights are normalised in double, scaled to int16 with a per-axis precision chosen from
 * the largest weight, and each pass rounds to uint8. Horizontal first, then vertical; a pass whose size
 * does not change is skipped.
 */
export function torchBicubicResize(source: RgbImage, width: number, height: number): RgbImage {
  let current = source;
  if (width !== current.width) current = horizontal(current, axisWeights(current.width, width), width);
  if (height !== current.height) current = vertical(current, axisWeights(current.height, height), height);
  return current === source ? { width, height, data: source.data.slice() } : current;
}

interface AxisWeights {
  readonly first: Int32Array;
  readonly count: Int32Array;
  readonly weights: Int32Array;
  readonly kernelSize: number;
  readonly precision: number;
}

/** a = −0.5 Keys kernel, written as torch's cubic_convolution1/2. */
function filter(distance: number): number {
  const a = -0.5;
  const x = Math.abs(distance);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

function axisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const support = scale >= 1 ? 2 * scale : 2;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const invScale = scale >= 1 ? 1 / scale : 1;
  const doubles = new Float64Array(outSize * kernelSize);
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  let maxWeight = 0;
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    const low = Math.max(Math.trunc(center - support + 0.5), 0);
    const size = Math.min(Math.max(Math.min(Math.trunc(center + support + 0.5), inSize) - low, 0), kernelSize);
    let total = 0;
    for (let j = 0; j < size; j++) {
      const w = filter((j + low - center + 0.5) * invScale);
      doubles[i * kernelSize + j] = w;
      total += w;
    }
    if (total !== 0) {
      for (let j = 0; j < size; j++) {
        doubles[i * kernelSize + j] /= total;
        maxWeight = Math.max(maxWeight, doubles[i * kernelSize + j]);
      }
    }
    first[i] = low;
    count[i] = size;
  }
  // The largest precision keeping every weight inside int16.
  let precision = 0;
  for (; precision < 22; precision++) {
    if (Math.trunc(0.5 + maxWeight * 2 ** (precision + 1)) >= 1 << 15) break;
  }
  const weights = new Int32Array(doubles.length);
  for (let k = 0; k < doubles.length; k++) {
    const v = doubles[k] * 2 ** precision;
    weights[k] = v < 0 ? Math.trunc(-0.5 + v) : Math.trunc(0.5 + v);
  }
  return { first, count, weights, kernelSize, precision };
}

function clampShift(accumulator: number, precision: number): number {
  const value = accumulator >> precision;
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

function horizontal(source: RgbImage, axis: AxisWeights, outWidth: number): RgbImage {
  const { height } = source;
  const out = new Uint8Array(outWidth * height * 3);
  const half = 1 << (axis.precision - 1);
  for (let y = 0; y < height; y++) {
    const row = y * source.width * 3;
    for (let x = 0; x < outWidth; x++) {
      for (let c = 0; c < 3; c++) {
        let acc = half;
        let pixel = row + axis.first[x] * 3 + c;
        for (let k = 0; k < axis.count[x]; k++, pixel += 3) acc += source.data[pixel] * axis.weights[x * axis.kernelSize + k];
        out[(y * outWidth + x) * 3 + c] = clampShift(acc, axis.precision);
      }
    }
  }
  return { width: outWidth, height, data: out };
}

function vertical(source: RgbImage, axis: AxisWeights, outHeight: number): RgbImage {
  const { width } = source;
  const stride = width * 3;
  const out = new Uint8Array(width * outHeight * 3);
  const half = 1 << (axis.precision - 1);
  for (let y = 0; y < outHeight; y++) {
    for (let i = 0; i < stride; i++) {
      let acc = half;
      let pixel = axis.first[y] * stride + i;
      for (let k = 0; k < axis.count[y]; k++, pixel += stride) acc += source.data[pixel] * axis.weights[y * axis.kernelSize + k];
      out[y * stride + i] = clampShift(acc, axis.precision);
    }
  }
  return { width, height: outHeight, data: out };
}
