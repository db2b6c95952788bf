import type { RgbImage } from '../image/rgb-image.js';

/** Qwen2-VL image statistics (CLIP's), from preprocessor_config.json. */
export interface PatchOptions {
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  readonly patchSize: number;
  readonly temporalPatchSize: number;
  readonly mergeSize: number;
}

export const QWEN2_VL_PATCHES: PatchOptions = {
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
  patchSize: 14,
  temporalPatchSize: 2,
  mergeSize: 2,
};

export interface PixelPatches {
  /** `[gridH·gridW, C·T·P·P]` float32, rows in merge-unit order (2×2 blocks of patches). */
  readonly data: Float32Array;
  readonly rows: number;
  readonly rowWidth: number;
  /** (t, h, w) in patches. */
  readonly gridThw: readonly [number, number, number];
}

/**
 * The fast Qwen2-VL processor after its resize: fused rescale+normalise, (x − 255·mean) / (255·std)
 * in float32 (mean and std widened to float32 first, as torch tensors), the single frame repeated to
 * the temporal patch size, then the patch permutation (`Qwen2VLImageProcessor._preprocess`): rows by (gh/2, gw/2, 2, 2), each
 * row in (C, T, 14, 14) order. The image must already have sides divisible by patch·merge.
 */
export function pixelPatches(image: RgbImage, options: PatchOptions = QWEN2_VL_PATCHES): PixelPatches {
  const { patchSize: p, temporalPatchSize: t, mergeSize: m } = options;
  const unit = p * m;
  if (image.width % unit !== 0 || image.height % unit !== 0) throw new RangeError(`image ${image.width}x${image.height} is not a multiple of ${unit}`);
  const gh = image.height / p;
  const gw = image.width / p;
  const rowWidth = 3 * t * p * p;
  const data = new Float32Array(gh * gw * rowWidth);
  const mean = options.mean.map((v) => Math.fround(Math.fround(v) * 255));
  const std = options.std.map((v) => Math.fround(Math.fround(v) * 255));
  let row = 0;
  for (let bh = 0; bh < gh / m; bh++) {
    for (let bw = 0; bw < gw / m; bw++) {
      for (let mh = 0; mh < m; mh++) {
        for (let mw = 0; mw < m; mw++) {
          const top = (bh * m + mh) * p;
          const left = (bw * m + mw) * p;
          let o = row * rowWidth;
          for (let c = 0; c < 3; c++) {
            for (let frame = 0; frame < t; frame++) {
              for (let y = 0; y < p; y++) {
                for (let x = 0; x < p; x++) {
                  const value = image.data[((top + y) * image.width + left + x) * 3 + c];
                  data[o++] = Math.fround(Math.fround(value - mean[c]) / std[c]);
                }
              }
            }
          }
          row++;
        }
      }
    }
  }
  return { data, rows: gh * gw, rowWidth, gridThw: [1, gh, gw] };
}
