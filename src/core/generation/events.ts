import type { GeneratedImage } from '../image/generated-image.js';

/** Events of generate and edit runs. */
export type ImageRunEvent =
  | {
      readonly type: 'step-start';
      readonly iteration: number;
      readonly iterations: number;
      /** Tokens known before this iteration (per image). */
      readonly known: number;
      /** Tokens this iteration predicts (per image). */
      readonly predicting: number;
    }
  | {
      readonly type: 'step-finish';
      readonly iteration: number;
      readonly iterations: number;
      readonly known: number;
      readonly predicted: number;
      /** Milliseconds since the run started. */
      readonly elapsedMs: number;
    }
  | { readonly type: 'image-preview'; readonly iteration: number; readonly images: readonly PreviewImage[] }
  | { readonly type: 'warning'; readonly code: string; readonly message: string }
  | { readonly type: 'finish'; readonly timings: ImageTimings };

/** A preview is an image like the result's: pixels plus `toPNG()`, `toBlob()`, `toImageData()`. */
export type PreviewImage = GeneratedImage;

export interface ImageTimings {
  /** Prompt (and source image) encoding and the prefix cache, ms. */
  readonly prefixMs: number;
  /** All MAR iterations, ms. */
  readonly samplingMs: number;
  /** VAE decode, ms. */
  readonly decodeMs: number;
  readonly totalMs: number;
}
