import { z } from 'zod';

/**
 * Structure of a converted UniPic2-SD3.5M-Kontext model, as the manifest records it: what the
 * runtime needs to feed the graphs (widths, lengths, the position table, latent scaling, the
 * scheduler). Written by the converter from the diffusers `config.json` files.
 */
export const kontextConfigSchema = z
  .object({
    transformer: z
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
      .strict(),
    vae: z
      .object({
        latentChannels: z.number().int().positive(),
        scalingFactor: z.number().positive(),
        shiftFactor: z.number(),
        /** Pixels per latent cell (2^(levels−1)). */
        stride: z.number().int().positive(),
      })
      .strict(),
    text: z
      .object({
        clipLength: z.number().int().positive(),
        t5Length: z.number().int().positive(),
        clipLWidth: z.number().int().positive(),
        clipGWidth: z.number().int().positive(),
        t5Width: z.number().int().positive(),
      })
      .strict(),
    scheduler: z.object({ numTrainTimesteps: z.number().int().positive(), shift: z.number().positive() }).strict(),
  })
  .strict();
export type KontextConfig = z.infer<typeof kontextConfigSchema>;

/** Graph names of the family (docs/model-format.md, "UniPic2-SD3.5M-Kontext"). */
export const KONTEXT_GRAPHS = ['clip_l', 'clip_g', 't5_encoder', 'transformer', 'vae_encoder', 'vae_decoder'] as const;
export type KontextGraphName = (typeof KONTEXT_GRAPHS)[number];

export const KONTEXT_FAMILY = 'unipic2-kontext' as const;
