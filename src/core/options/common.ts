import { z } from 'zod';
import type { RandomSource } from '../random/random-source.js';

export const signalSchema = z.custom<AbortSignal>((value) => typeof value === 'object' && value !== null && 'aborted' in value && 'addEventListener' in value, {
  message: 'expected an AbortSignal',
});

/** The largest seed: seeds are 31-bit, so every seed a run reports can be passed back in. */
export const MAX_SEED = 0x7fffffff;

/**
 * One check, one message: zod's `.int()` adds its own safe-integer bound, so `.int().max()` would
 * report two different limits for a seed like 1e20.
 */
export const seedSchema = z
  .number()
  .refine((value) => Number.isInteger(value) && value >= 0 && value <= MAX_SEED, { message: `seed must be a whole number from 0 to ${MAX_SEED}` });

/** A caller-supplied randomness source (parity tests replay recorded orders and noise). */
export const randomSchema = z.custom<RandomSource>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RandomSource).order === 'function' &&
    typeof (value as RandomSource).normal === 'function' &&
    typeof (value as RandomSource).uniform === 'function',
  { message: 'expected a RandomSource with order(), normal() and uniform()' },
);

/** Options shared by generate and edit (the MAR sampling loop). */
export const samplingShape = {
  prompt: z.string().min(1, 'prompt must not be empty'),
  size: z.number().int().positive().optional(),
  steps: z.number().int().min(1).max(256).default(32),
  guidance: z.number().min(1).max(50).default(3),
  guidanceSchedule: z.enum(['constant', 'linear']).default('constant'),
  temperature: z.number().positive().max(10).default(1),
  diffusionSteps: z.number().int().min(1).max(1000).default(100),
  numImages: z.number().int().min(1).max(16).default(1),
  seed: seedSchema.optional(),
  /** Emit an `image-preview` every k iterations (decodes the partial latents: costs a VAE decode). */
  preview: z.number().int().positive().optional(),
  signal: signalSchema.optional(),
  random: randomSchema.optional(),
};
