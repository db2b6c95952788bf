import { z } from 'zod';
import { checkpointConfigSchema } from './checkpoint-config.js';

const section = <T extends z.ZodRawShape>(schema: z.ZodObject<T>) => {
  // Without the schema defaults: an absent field must stay absent, so the shapes or the Qwen
  // config decide it (a default `tie_word_embeddings: true` would contradict an untied head).
  const shape = Object.fromEntries(
    Object.entries(schema.shape).map(([key, field]) => [
      key,
      ((field as z.ZodType) instanceof z.ZodDefault ? (field as z.ZodDefault).unwrap() : field) as z.ZodType,
    ]),
  );
  return z.object(shape).partial().strict().optional();
};

/**
 * `unipic-config.json`: any part of the structure (same snake_case layout as
 * `tiny/tiny-config.json`). What tensor shapes state may be left out, and must agree when given;
 * what they cannot state (head counts, GroupNorm groups of a non-1.5B VAE) must be given.
 */
export const sideConfigSchema = z
  .object({
    llm: section(checkpointConfigSchema.shape.llm),
    mar: section(checkpointConfigSchema.shape.mar),
    diffloss: section(checkpointConfigSchema.shape.diffloss),
    vae: section(checkpointConfigSchema.shape.vae),
    resolutions: checkpointConfigSchema.shape.resolutions.optional(),
    seed: z.number().int().optional(),
    _comment: z.string().optional(),
  })
  .strict();
