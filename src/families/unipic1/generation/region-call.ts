import { loadImage, type ImageInput } from '../../../core/image/load-image.js';
import type { CallContext } from '../../../core/model/model-context.js';
import { blendWeights, compositeOver, cropRgba, rgbToRgba } from '../../../core/region/composite.js';
import { loadMask, type MaskInput } from '../../../core/region/mask-input.js';
import type { OutpaintSpec } from '../../../core/region/outpaint-canvas.js';
import { regionLayout, type RegionLayout } from '../../../core/region/region-layout.js';
import { makeImage, type GeneratedImage } from './decode-images.js';

export interface RegionRequest {
  readonly image: ImageInput;
  readonly mask?: MaskInput;
  readonly outpaint?: OutpaintSpec;
  readonly maskThreshold: number;
  readonly maskDilation: number;
  readonly composite: boolean;
  readonly feather: number;
}

/** A region call, planned: its layout and how decoded images become outputs. */
export interface RegionPlan {
  readonly layout: RegionLayout;
  /** Decoded S×S images → outputs: composited with the source (unless `composite: false`), cropped to the canvas. */
  finish(images: readonly { width: number; height: number; data: Uint8ClampedArray }[]): GeneratedImage[];
  /** The source itself as the output (composited on a mask of nothing), cropped. */
  sourceImage(): GeneratedImage;
}

/** Loads image and mask, lays them onto the model's square and the latent grid (docs/api.md, "Regions"). */
export async function planRegion(context: CallContext, request: RegionRequest, size: number, grid: number): Promise<RegionPlan> {
  const image = await loadImage(request.image, { signal: context.signal });
  const mask = request.mask === undefined ? undefined : await loadMask(request.mask, context.signal);
  const layout = regionLayout({
    image,
    ...(mask ? { mask } : {}),
    ...(request.outpaint ? { outpaint: request.outpaint } : {}),
    size,
    grid,
    threshold: request.maskThreshold,
    dilation: request.maskDilation,
  });
  if (layout.cropped) {
    const side = Math.min(image.width, image.height);
    context.warn(
      'image-cropped',
      `the ${image.width}×${image.height} source (and its mask) was center-cropped to ${side}×${side}, as the official edit pipeline does`,
    );
  }
  if (layout.maskedCount === 0) {
    context.warn('mask-empty', 'the mask covers no latent token, so nothing is regenerated: the source is returned without sampling');
  }
  let weights: Float32Array | undefined;
  const output = (data: Uint8ClampedArray) => makeImage(layout.crop.width, layout.crop.height, cropRgba(data, size, layout.crop));
  return {
    layout,
    finish(images) {
      if (!request.composite) return images.map((decoded) => output(decoded.data));
      weights ??= blendWeights(layout.tokens, grid, size, request.feather);
      const blend = weights;
      return images.map((decoded) => output(compositeOver(decoded.data, layout.source, blend)));
    },
    sourceImage: () => output(rgbToRgba(layout.source)),
  };
}
