import type { GeneratedImage } from '../image/generated-image.js';

/** Events of a generate or edit run of the SD3 sampler (Kontext and Metaquery). */
export type DiffusionRunEvent =
  | { readonly type: 'step-start'; readonly step: number; readonly steps: number }
  | { readonly type: 'step-finish'; readonly step: number; readonly steps: number; readonly elapsedMs: number }
  /** The predicted clean image `x − σ·v` after a step, VAE-decoded (only with the `preview` option). */
  | { readonly type: 'image-preview'; readonly step: number; readonly images: readonly GeneratedImage[] }
  | { readonly type: 'warning'; readonly code: string; readonly message: string }
  | { readonly type: 'finish'; readonly timings: DiffusionTimings };

export interface DiffusionTimings {
  /** Text encoders (and the reference image's VAE encoding for edits), ms. */
  readonly encodeMs: number;
  readonly samplingMs: number;
  readonly decodeMs: number;
  readonly totalMs: number;
}

export interface DiffusionResult {
  readonly images: readonly GeneratedImage[];
  /** The seed used (given or drawn), so a run can be repeated. */
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  /** The final latent `[1, C, H/8, W/8]` (scaled, before the VAE), for inspection and parity tests. */
  readonly latent: { readonly dims: readonly number[]; readonly data: Float32Array };
  readonly timings: DiffusionTimings;
}
