import { z } from 'zod';
import { flowMatchConfigSchema, sd3TransformerConfigSchema, sd3VaeConfigSchema } from '../../core/diffusion/sd3-diffusion-config.js';

/**
 * Structure of a converted UniPic2-SD3.5M-Kontext model, as the manifest records it: what the
 * runtime needs to feed the graphs (widths, lengths, the position table, latent scaling, the
 * scheduler). Written by the converter from the diffusers `config.json` files.
 */
export const kontextConfigSchema = z
  .object({
    transformer: sd3TransformerConfigSchema,
    vae: sd3VaeConfigSchema,
    text: z
      .object({
        clipLength: z.number().int().positive(),
        t5Length: z.number().int().positive(),
        clipLWidth: z.number().int().positive(),
        clipGWidth: z.number().int().positive(),
        t5Width: z.number().int().positive(),
      })
      .strict(),
    scheduler: flowMatchConfigSchema,
  })
  .strict();
export type KontextConfig = z.infer<typeof kontextConfigSchema>;

/** Graph names of the family (docs/model-format.md, "UniPic2-SD3.5M-Kontext"). */
export const KONTEXT_GRAPHS = ['clip_l', 'clip_g', 't5_encoder', 'transformer', 'vae_encoder', 'vae_decoder', 'vae_decoder_strips', 'vae_encoder_strips'] as const;
export type KontextGraphName = (typeof KONTEXT_GRAPHS)[number];

export const KONTEXT_FAMILY = 'unipic2-kontext' as const;
