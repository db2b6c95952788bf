import type { RgbImage } from '../../../core/image/rgb-image.js';
import { takeFloat32 } from '../../../core/tensor.js';
import { pixelPatches } from '../../../core/qwen-vl/pixel-patches.js';
import { editVisionPixels, smartResize } from '../../../core/qwen-vl/smart-resize.js';
import { torchBicubicResize } from '../../../core/qwen-vl/torch-bicubic-resize.js';
import { visionFeeds } from '../../../core/qwen-vl/vision-feeds.js';
import type { MqGraphs, MqRuntimeConfig } from './mq-graphs.js';

/** Qwen2-VL processor defaults (preprocessor_config.json of Qwen2.5-VL-7B-Instruct). */
export const DEFAULT_MIN_PIXELS = 3136;
export const DEFAULT_MAX_PIXELS = 12845056;

export interface EncodedImage {
  /** `[tokens, llmHidden]`, row-major merge units of the resized image. */
  readonly embeds: Float32Array;
  readonly tokens: number;
  readonly gridH: number;
  readonly gridW: number;
}

/**
 * Image → vision embeddings as the official paths feed the VLM: smart_resize (understanding: the
 * processor's min/max pixels; editing: min = max = the 28/32 rule), torch's antialiased bicubic, the
 * patches, then the `vision` graph. A size that smart_resize keeps skips the resize, as torchvision does.
 */
export async function encodeImage(
  graphs: MqGraphs,
  config: MqRuntimeConfig,
  image: RgbImage,
  pixels: { readonly min: number; readonly max: number },
  signal?: AbortSignal,
): Promise<EncodedImage> {
  const factor = config.vision.patchSize * config.vision.spatialMergeSize;
  const size = smartResize(image.height, image.width, factor, pixels.min, pixels.max);
  const resized = size.width === image.width && size.height === image.height ? image : torchBicubicResize(image, size.width, size.height);
  const vision = visionFeeds(pixelPatches(resized), config.vision);
  const out = await graphs.run('vision', vision.feeds, { signal, outputs: ['image_embeds'] });
  const embeds = await takeFloat32(out.image_embeds);
  return { embeds: embeds.data, tokens: vision.tokens, gridH: vision.gridH, gridW: vision.gridW };
}

/** The editing path's vision pixel budget for an edit of `height × width` (`unipic2_mq_editing.py`). */
export function editPixels(height: number, width: number): { min: number; max: number } {
  const px = editVisionPixels(height, width);
  return { min: px, max: px };
}
