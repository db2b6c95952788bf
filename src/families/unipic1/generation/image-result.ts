import type { ImageTimings } from '../../../core/generation/events.js';
import type { GeneratedImage } from './decode-images.js';

/** What `generate` and `edit` resolve to: the images, the seed that made them, timings and warnings. */
export interface ImageResult {
  readonly images: GeneratedImage[];
  /** The seed used (given or drawn), to repeat the run; absent when a `random` source was given. */
  readonly seed?: number;
  readonly timings: ImageTimings;
  readonly warnings: readonly { code: string; message: string }[];
}

/** @deprecated Renamed `ImageResult` (`edit` resolves to it too); kept so existing imports compile. */
export type GenerateResult = ImageResult;
