import type { RgbImage } from '../image/rgb-image.js';

const FAR = 1e20;

/** Felzenszwalb–Huttenlocher 1-D squared distance transform of `f` (in place via `out`). */
function distance1d(f: Float64Array, n: number, out: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    let s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    while (s <= z[k]) {
      k--;
      s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    out[q] = (q - v[k]) * (q - v[k]) + f[v[k]];
  }
}

/** Exact Euclidean distance (pixels, centre to centre) from every pixel to the nearest set pixel. */
export function distanceToSet(set: Uint8Array, width: number, height: number): Float64Array {
  const n = Math.max(width, height);
  const f = new Float64Array(n);
  const out = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  const grid = new Float64Array(width * height);
  for (let i = 0; i < grid.length; i++) grid[i] = set[i] ? 0 : FAR;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = grid[y * width + x];
    distance1d(f, height, out, v, z);
    for (let y = 0; y < height; y++) grid[y * width + x] = out[y];
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) f[x] = grid[y * width + x];
    distance1d(f, width, out, v, z);
    for (let x = 0; x < width; x++) grid[y * width + x] = Math.sqrt(out[x]);
  }
  return grid;
}

/** The token mask at pixel resolution: every token a `size/grid`-pixel block. */
export function pixelMask(tokens: Uint8Array, grid: number, size: number): Uint8Array {
  const out = new Uint8Array(size * size);
  const block = size / grid;
  for (let y = 0; y < size; y++) {
    const row = Math.floor(y / block) * grid;
    for (let x = 0; x < size; x++) out[y * size + x] = tokens[row + Math.floor(x / block)];
  }
  return out;
}

/**
 * Weight of the generated pixels: 1 on regenerated tokens, falling linearly to 0 over `feather`
 * pixels outside them (at distance d: 1 − d/(feather+1)), 0 beyond. The ramp lies outside the
 * regenerated region on purpose: inside, the source would ghost through what replaced it; outside,
 * the model's pixels are the VAE's rendering of the source's own latents, so the blend is seamless.
 */
export function blendWeights(tokens: Uint8Array, grid: number, size: number, feather: number): Float32Array {
  const set = pixelMask(tokens, grid, size);
  const weights = new Float32Array(size * size);
  if (feather <= 0) {
    for (let i = 0; i < set.length; i++) weights[i] = set[i];
    return weights;
  }
  const distance = distanceToSet(set, size, size);
  for (let i = 0; i < weights.length; i++) weights[i] = Math.max(0, 1 - distance[i] / (feather + 1));
  return weights;
}

/** `weight·generated + (1 − weight)·source`, rounded; RGBA out with alpha 255. */
export function compositeOver(generated: Uint8ClampedArray, source: RgbImage, weights: Float32Array): Uint8ClampedArray {
  const count = source.width * source.height;
  const out = new Uint8ClampedArray(count * 4);
  for (let i = 0; i < count; i++) {
    const w = weights[i];
    for (let c = 0; c < 3; c++) out[i * 4 + c] = Math.round(w * generated[i * 4 + c] + (1 - w) * source.data[i * 3 + c]);
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** Output crop in model pixels: the canvas inside the model's square (the whole square unless outpainting a non-square canvas). */
export interface PixelRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export function cropRgba(data: Uint8ClampedArray, size: number, rect: PixelRect): Uint8ClampedArray {
  if (rect.x === 0 && rect.y === 0 && rect.width === size && rect.height === size) return data;
  const out = new Uint8ClampedArray(rect.width * rect.height * 4);
  for (let y = 0; y < rect.height; y++) {
    const from = ((rect.y + y) * size + rect.x) * 4;
    out.set(data.subarray(from, from + rect.width * 4), y * rect.width * 4);
  }
  return out;
}

export function rgbToRgba(image: RgbImage): Uint8ClampedArray {
  const count = image.width * image.height;
  const out = new Uint8ClampedArray(count * 4);
  for (let i = 0; i < count; i++) {
    out[i * 4] = image.data[i * 3];
    out[i * 4 + 1] = image.data[i * 3 + 1];
    out[i * 4 + 2] = image.data[i * 3 + 2];
    out[i * 4 + 3] = 255;
  }
  return out;
}
