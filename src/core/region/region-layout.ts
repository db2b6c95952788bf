import { resizeLikePillow } from '../image/pillow-resize.js';
import type { RgbImage } from '../image/rgb-image.js';
import { crop2square, EXPAND_FILL, expand2square } from '../image/square.js';
import type { PixelRect } from './composite.js';
import type { MaskRaster } from './mask-input.js';
import { resolveOutpaintCanvas, type OutpaintCanvas, type OutpaintSpec } from './outpaint-canvas.js';
import { checkMaskAspect, cropFrame, expandFrame, tokenMask, type ModelFrame } from './token-mask.js';

export interface RegionLayoutInput {
  readonly image: RgbImage;
  readonly mask?: MaskRaster;
  readonly outpaint?: OutpaintSpec;
  /** Model image side S (pixels) and latent grid side. */
  readonly size: number;
  readonly grid: number;
  readonly threshold: number;
  readonly dilation: number;
}

/** Where a region call's pixels come from and which tokens it regenerates. */
export interface RegionLayout {
  /** The S×S model image: what the VAE encodes, and what the output is composited with. */
  readonly source: RgbImage;
  /** 1 = regenerate; `grid²` long, raster order. */
  readonly tokens: Uint8Array;
  /** Tokens to regenerate. */
  readonly maskedCount: number;
  /** The output's rectangle inside the S×S model image. */
  readonly crop: PixelRect;
  /** The source was cropped to a square (the edit preprocessing) and lost pixels. */
  readonly cropped: boolean;
  readonly canvas?: OutpaintCanvas;
}

/** The outpaint canvas: new area filled with the understanding preprocessing's grey, the source at (x, y). */
function paintCanvas(image: RgbImage, canvas: OutpaintCanvas): RgbImage {
  const data = new Uint8Array(canvas.width * canvas.height * 3);
  for (let i = 0; i < canvas.width * canvas.height; i++) data.set(EXPAND_FILL, i * 3);
  for (let y = 0; y < image.height; y++) {
    data.set(image.data.subarray(y * image.width * 3, (y + 1) * image.width * 3), ((canvas.y + y) * canvas.width + canvas.x) * 3);
  }
  return { width: canvas.width, height: canvas.height, data };
}

/**
 * One geometry for image and mask. Without outpaint, the edit preprocessing: the centred square of
 * the short side (crop2square), Pillow-resized to S; the mask is stretched over the image and
 * cut by the same square. With outpaint, the canvas is padded to a square instead (expand2square,
 * the padding masked like the new area) so nothing is cut, and the output is cropped back to it.
 */
export function regionLayout(input: RegionLayoutInput): RegionLayout {
  const { image, mask, size, grid } = input;
  if (mask) checkMaskAspect(mask, image.width, image.height);
  let frame: ModelFrame;
  let source: RgbImage;
  let crop: PixelRect = { x: 0, y: 0, width: size, height: size };
  let canvas: OutpaintCanvas | undefined;
  let rect = { x: 0, y: 0, width: image.width, height: image.height };
  if (input.outpaint) {
    canvas = resolveOutpaintCanvas(image.width, image.height, input.outpaint);
    rect = { x: canvas.x, y: canvas.y, width: image.width, height: image.height };
    frame = expandFrame(canvas.width, canvas.height);
    source = resizeLikePillow(expand2square(paintCanvas(image, canvas)), size, size);
    const scale = size / frame.side;
    const x = Math.round(-frame.left * scale);
    const y = Math.round(-frame.top * scale);
    crop = {
      x,
      y,
      width: Math.min(size - x, Math.max(1, Math.round(canvas.width * scale))),
      height: Math.min(size - y, Math.max(1, Math.round(canvas.height * scale))),
    };
  } else {
    frame = cropFrame(image.width, image.height);
    source = resizeLikePillow(crop2square(image), size, size);
  }
  const tokens = tokenMask({ frame, grid, image: rect, ...(mask ? { mask } : {}), threshold: input.threshold, dilation: input.dilation });
  let maskedCount = 0;
  for (const t of tokens) maskedCount += t;
  return { source, tokens, maskedCount, crop, cropped: !input.outpaint && image.width !== image.height, ...(canvas ? { canvas } : {}) };
}
