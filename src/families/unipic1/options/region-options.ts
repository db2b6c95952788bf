import { z } from 'zod';
import { isMaskGrid, type MaskInput } from '../../../core/region/mask-input.js';
import type { OutpaintSpec } from '../../../core/region/outpaint-canvas.js';

/** An image input or a `{ width, height, data }` grid; loadMask gives the precise error for bad ones. */
export const maskInputSchema = z.custom<MaskInput>(
  (value) => isMaskGrid(value) || typeof value === 'string' || value instanceof URL || (typeof value === 'object' && value !== null),
  { message: 'expected a mask: an image (path, URL, bytes, Blob, ImageData, canvas, raw pixels) or a grid { width, height, data }' },
);

const pixels = z.number().int().min(0).max(65536);

export const outpaintSchema: z.ZodType<OutpaintSpec> = z
  .object({
    left: pixels.optional(),
    top: pixels.optional(),
    right: pixels.optional(),
    bottom: pixels.optional(),
    width: pixels.optional(),
    height: pixels.optional(),
  })
  .strict()
  .refine((spec) => Object.values(spec).some((v) => v !== undefined), { message: 'give at least one of left, top, right, bottom, width, height' });

/** Region editing (docs/api.md, "Regions"): which latent tokens are regenerated, and how the output is blended. */
export const regionShape = {
  /** White (or true, or ≥ 0.5) = regenerate. Same aspect ratio as the image (1 % tolerance). */
  mask: maskInputSchema.optional(),
  /** A token regenerates when more than this fraction of its pixels is masked; 0 = any masked pixel. */
  maskThreshold: z.number().min(0).lt(1).default(0),
  /** Grow the token mask by this many tokens in every direction. */
  maskDilation: z.number().int().min(0).max(64).default(0),
  /** Extend the canvas; the new area is regenerated. */
  outpaint: outpaintSchema.optional(),
  /** Blend the source's pixels back outside the regenerated tokens (the VAE round trip alters them). */
  composite: z.boolean().default(true),
  /** Width of the blend ramp outside the regenerated tokens, in output pixels. */
  feather: z.number().int().min(0).max(512).default(16),
};

export interface RegionFields {
  readonly mask?: MaskInput;
  readonly outpaint?: OutpaintSpec;
}

/** Region options change nothing without a region: refuse them instead of ignoring them. */
export function refineRegion(value: RegionFields, context: z.RefinementCtx, hasImage: boolean): void {
  const region = value.mask !== undefined || value.outpaint !== undefined;
  if (region && !hasImage)
    context.addIssue({
      code: 'custom',
      path: [value.mask !== undefined ? 'mask' : 'outpaint'],
      message: 'a mask or outpaint needs the source image (option image)',
    });
  if (!region && hasImage)
    context.addIssue({ code: 'custom', path: ['image'], message: 'generate() takes an image only with a mask or outpaint (to change the whole image, use edit())' });
}
