import { z } from 'zod';
import { llmConfigSchema } from '../../spec/llm-config.js';
import { DTYPES, generationDefaultsSchema, graphVariantSchema, manifestSchema, relativePath, type Capability } from '../../spec/manifest.js';

/** The `familyVersion` of the UniPic-1 sections this SDK reads and writes. */
export const UNIPIC1_FAMILY_VERSION = 1 as const;

/** UniPic-1's graphs (docs/model-format.md). */
export const GRAPH_NAMES = [
  'embed',
  'lm_head',
  'llm',
  'mar_encoder',
  'mar_decoder',
  'decoder_embed',
  'diffusion_head',
  'vae_encoder',
  'vae_decoder',
  'vae_decoder_strips',
  'vae_encoder_strips',
  'diffusion_sampler',
  'diffusion_sampler_plain',
] as const;
export type UniPic1GraphName = (typeof GRAPH_NAMES)[number];

export const marConfigSchema = z
  .object({
    encoderWidth: z.number().int().positive(),
    decoderWidth: z.number().int().positive(),
    encoderDepth: z.number().int().positive(),
    decoderDepth: z.number().int().positive(),
    encoderHeads: z.number().int().positive(),
    decoderHeads: z.number().int().positive(),
    bufferSize: z.number().int().positive(),
    tokenDim: z.number().int().positive(),
    /** Latent grid side the learned tables were trained for (32 for UniPic). */
    nativeGrid: z.number().int().positive(),
    vaeStride: z.number().int().positive(),
  })
  .strict();

export const diffusionConfigSchema = z
  .object({
    width: z.number().int().positive(),
    depth: z.number().int().positive(),
    numTimesteps: z.number().int().positive(),
    samplingSteps: z.number().int().positive(),
    maxBeta: z.number().positive(),
    schedule: z.literal('cosine'),
  })
  .strict();

export const vaeConfigSchema = z
  .object({
    scale: z.number().positive(),
    latentChannels: z.number().int().positive(),
  })
  .strict();

export const tokensConfigSchema = z
  .object({
    imStart: z.number().int(),
    imEnd: z.number().int(),
    endOfText: z.number().int(),
  })
  .strict();

export const modelConfigSchema = z
  .object({
    llm: llmConfigSchema,
    mar: marConfigSchema,
    diffusion: diffusionConfigSchema,
    vae: vaeConfigSchema,
    tokens: tokensConfigSchema,
  })
  .strict();
export type ModelConfig = z.infer<typeof modelConfigSchema>;

export const resolutionSchema = z
  .object({
    /** Output image side in pixels. */
    size: z.number().int().positive(),
    /** Latent grid side (size / vae stride). */
    grid: z.number().int().positive(),
    tables: relativePath,
  })
  .strict();

/**
 * `unipic.json` of a UniPic-1 model: the family-neutral fields plus its sections (`config`, the
 * tokenizer, the MAR constants, the position tables per output size), checked strictly.
 */
export const unipic1ManifestSchema = manifestSchema
  .extend({
    family: z.literal('unipic1').default('unipic1'),
    familyVersion: z.literal(UNIPIC1_FAMILY_VERSION).default(UNIPIC1_FAMILY_VERSION),
    config: modelConfigSchema,
    generation: generationDefaultsSchema.optional(),
    tokenizer: z.object({ json: relativePath, config: relativePath }).strict(),
    constants: relativePath,
    resolutions: z.array(resolutionSchema).min(1),
    graphs: z.partialRecord(z.enum(GRAPH_NAMES), z.partialRecord(z.enum(DTYPES), graphVariantSchema)),
  })
  .strict();
export type UniPic1Manifest = z.infer<typeof unipic1ManifestSchema>;

/**
 * Graphs a capability uses when the folder has them (`unipic convert --fused-sampler`): the whole
 * 100-step diffusion sampler in one graph, guided and unguided, instead of 100 `diffusion_head` runs;
 * the strip VAE decoder (`vae_decoder_strips`), which decodes in a fraction of the one-shot memory;
 * the strip VAE encoder (`vae_encoder_strips`), the same for the source image of understand and edit.
 */
export const OPTIONAL_CAPABILITY_GRAPHS: Record<Capability, readonly UniPic1GraphName[]> = {
  generate: ['diffusion_sampler', 'diffusion_sampler_plain', 'vae_decoder_strips'],
  understand: ['vae_encoder_strips'],
  edit: ['diffusion_sampler', 'diffusion_sampler_plain', 'vae_decoder_strips', 'vae_encoder_strips'],
};

export const CAPABILITY_GRAPHS: Record<Capability, readonly UniPic1GraphName[]> = {
  generate: ['embed', 'llm', 'mar_encoder', 'mar_decoder', 'diffusion_head', 'vae_decoder'],
  understand: ['embed', 'llm', 'lm_head', 'mar_encoder', 'vae_encoder'],
  edit: ['embed', 'llm', 'mar_encoder', 'mar_decoder', 'decoder_embed', 'diffusion_head', 'vae_encoder', 'vae_decoder'],
};
