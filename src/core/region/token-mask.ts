import { maskError, type MaskRaster } from './mask-input.js';

/**
 * The model's square on the canvas (canvas pixels): `[left, left+side) × [top, top+side)` is what
 * the S×S model image shows. crop2square puts it inside the canvas, expand2square around it.
 */
export interface ModelFrame {
  readonly left: number;
  readonly top: number;
  readonly side: number;
}

/** The source image's rectangle on the canvas (the whole canvas unless outpainting). */
export interface ImageRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The official edit preprocessing's square (`crop2square`): centred, floor offsets. */
export function cropFrame(width: number, height: number): ModelFrame {
  const side = Math.min(width, height);
  return { left: Math.floor((width - side) / 2), top: Math.floor((height - side) / 2), side };
}

/** The understanding preprocessing's square (`expand2square`), used for outpaint canvases. */
export function expandFrame(width: number, height: number): ModelFrame {
  const side = Math.max(width, height);
  // The image sits at floor(extra / 2) inside the square, so the square starts that far before it.
  const before = (extra: number) => (extra === 0 ? 0 : -Math.floor(extra / 2));
  return { left: before(side - width), top: before(side - height), side };
}

/** Aspect tolerance between mask and image: 1 % of the ratio (room for rounding when a mask was scaled). */
export const MASK_ASPECT_TOLERANCE = 0.01;

export function checkMaskAspect(mask: MaskRaster, width: number, height: number): void {
  const ratio = mask.width / mask.height / (width / height);
  if (Math.abs(ratio - 1) > MASK_ASPECT_TOLERANCE) {
    throw maskError(
      'mask-aspect',
      `the ${mask.width}×${mask.height} mask does not have the ${width}×${height} image's aspect ratio (${(mask.width / mask.height).toFixed(4)} vs ${(width / height).toFixed(4)}, tolerance ${MASK_ASPECT_TOLERANCE * 100} %); scale the mask with the image`,
      { mask: [mask.width, mask.height], image: [width, height] },
    );
  }
}

/** Overlaps below this (in pixels) are float noise of a shared edge, not coverage. */
const SLIVER = 1e-6;

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  const length = Math.min(a1, b1) - Math.max(a0, b0);
  return length > SLIVER ? length : 0;
}

/** Masked area of the raster over `[x0, x1) × [y0, y1)` in raster pixels, partial pixels by area. */
function maskedArea(mask: MaskRaster, x0: number, x1: number, y0: number, y1: number): number {
  let area = 0;
  const firstX = Math.max(0, Math.floor(x0));
  const lastX = Math.min(mask.width, Math.ceil(x1));
  for (let y = Math.max(0, Math.floor(y0)); y < Math.min(mask.height, Math.ceil(y1)); y++) {
    const wy = overlap(y, y + 1, y0, y1);
    if (wy === 0) continue;
    let row = 0;
    for (let x = firstX; x < lastX; x++) if (mask.masked[y * mask.width + x]) row += overlap(x, x + 1, x0, x1);
    area += row * wy;
  }
  return area;
}

export interface TokenMaskInput {
  readonly frame: ModelFrame;
  /** Latent grid side (tokens per row). */
  readonly grid: number;
  readonly image: ImageRect;
  /** The caller's mask over the image; absent = nothing inside the image is masked. */
  readonly mask?: MaskRaster;
  /** A token regenerates when its masked fraction is above this (0: any masked pixel). */
  readonly threshold: number;
  /** Grow the result by this many tokens in every direction (diagonals included). */
  readonly dilation: number;
}

/**
 * The latent-token mask (1 = regenerate), raster order, `grid²` long. Each token covers
 * `side/grid` canvas pixels a side; its masked fraction is the area of masked mask pixels inside
 * it (the mask stretched over the image rectangle, partial pixels counted by area) plus any area
 * off the source image (an outpaint canvas), over its whole area.
 */
export function tokenMask(input: TokenMaskInput): Uint8Array {
  const { frame, grid, image, mask, threshold } = input;
  const step = frame.side / grid;
  const out = new Uint8Array(grid * grid);
  const scaleX = mask ? mask.width / image.width : 1;
  const scaleY = mask ? mask.height / image.height : 1;
  for (let row = 0; row < grid; row++) {
    const y0 = frame.top + row * step;
    const y1 = frame.top + (row + 1) * step;
    const insideY = overlap(y0, y1, image.y, image.y + image.height);
    for (let column = 0; column < grid; column++) {
      const x0 = frame.left + column * step;
      const x1 = frame.left + (column + 1) * step;
      const insideX = overlap(x0, x1, image.x, image.x + image.width);
      const total = step * step;
      let masked = total - insideX * insideY;
      if (mask && insideX > 0 && insideY > 0) {
        const mx0 = (Math.max(x0, image.x) - image.x) * scaleX;
        const mx1 = (Math.min(x1, image.x + image.width) - image.x) * scaleX;
        const my0 = (Math.max(y0, image.y) - image.y) * scaleY;
        const my1 = (Math.min(y1, image.y + image.height) - image.y) * scaleY;
        masked += maskedArea(mask, mx0, mx1, my0, my1) / (scaleX * scaleY);
      }
      if (masked / total > threshold && masked > SLIVER) out[row * grid + column] = 1;
    }
  }
  return dilate(out, grid, input.dilation);
}

/** Chebyshev dilation: a token regenerates when any token within `radius` (rows and columns) does. */
export function dilate(mask: Uint8Array, grid: number, radius: number): Uint8Array {
  if (radius <= 0) return mask;
  const out = new Uint8Array(mask.length);
  for (let row = 0; row < grid; row++) {
    for (let column = 0; column < grid; column++) {
      if (!mask[row * grid + column]) continue;
      for (let r = Math.max(0, row - radius); r <= Math.min(grid - 1, row + radius); r++) {
        out.fill(1, r * grid + Math.max(0, column - radius), r * grid + Math.min(grid - 1, column + radius) + 1);
      }
    }
  }
  return out;
}
