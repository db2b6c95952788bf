import { z } from 'zod';
import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import { DEFAULT_MAX_PIXELS } from './pixel-limit.js';

const channel = z.number().int().min(0).max(255);

export const loadImageOptionsSchema = z
  .object({
    /** Largest accepted width × height, checked against the file header before decoding. */
    maxPixels: z.number().int().positive().default(DEFAULT_MAX_PIXELS),
    /** Composite transparent pixels over this colour. Unset: drop alpha as Pillow's convert('RGB') does. */
    background: z.tuple([channel, channel, channel]).optional(),
    /** 'exif' (default) turns photos upright like ImageOps.exif_transpose; 'ignore' matches the official scripts. */
    orientation: z.enum(['exif', 'ignore']).default('exif'),
    signal: z
      .custom<AbortSignal>((value) => typeof value === 'object' && value !== null && 'aborted' in value, {
        message: 'expected an AbortSignal',
      })
      .optional(),
    /** Used for URL inputs instead of the global fetch (auth headers, caching, tests). */
    fetch: z.custom<typeof fetch>((value) => typeof value === 'function', { message: 'expected a fetch function' }).optional(),
  })
  .strict();

export type LoadImageOptions = z.input<typeof loadImageOptionsSchema>;
export type ResolvedLoadImageOptions = z.output<typeof loadImageOptionsSchema>;

export function parseLoadImageOptions(options: LoadImageOptions | undefined): ResolvedLoadImageOptions {
  const parsed = loadImageOptionsSchema.safeParse(options ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message }));
  throw new InvalidOptionsError(`Invalid loadImage options — ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
    details: { issues },
  });
}
