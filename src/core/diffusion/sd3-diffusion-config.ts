import { z } from 'zod';

/**
 * What the SD3.5M-Kontext denoiser, the SD3 VAE and the flow-matching scheduler need at run time
 * (widths, the position table, latent scaling, the schedule): the part of a model's `config` that
 * every family built on this sampler (UniPic2-Kontext, UniPic2-Metaquery) records the same way.
 */
export const sd3TransformerConfigSchema = z
  .object({
    width: z.number().int().positive(),
    patchSize: z.number().int().positive(),
    inChannels: z.number().int().positive(),
    outChannels: z.number().int().positive(),
    jointAttentionDim: z.number().int().positive(),
    pooledProjectionDim: z.number().int().positive(),
    positionTable: z
      .object({
        maxSize: z.number().int().positive(),
        baseSize: z.number().int().positive(),
        interpolationScale: z.number().positive(),
        rounding: z.enum(['bfloat16', 'float32']),
      })
      .strict(),
  })
  .strict();

export const sd3VaeConfigSchema = z
  .object({
    latentChannels: z.number().int().positive(),
    scalingFactor: z.number().positive(),
    shiftFactor: z.number(),
    /** Pixels per latent cell (2^(levels−1)). */
    stride: z.number().int().positive(),
  })
  .strict();

export const flowMatchConfigSchema = z.object({ numTrainTimesteps: z.number().int().positive(), shift: z.number().positive() }).strict();

export interface Sd3DiffusionConfig {
  readonly transformer: z.infer<typeof sd3TransformerConfigSchema>;
  readonly vae: z.infer<typeof sd3VaeConfigSchema>;
  readonly scheduler: z.infer<typeof flowMatchConfigSchema>;
}
