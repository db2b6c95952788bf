import { z } from 'zod';

/** Version of the `unipic.json` layout this SDK reads. Bump on any incompatible change. */
export const MANIFEST_VERSION = 1 as const;

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
  'diffusion_sampler',
  'diffusion_sampler_plain',
] as const;
export type GraphName = (typeof GRAPH_NAMES)[number];

export const DTYPES = ['fp32', 'fp16', 'q4', 'q4f16'] as const;
export type Dtype = (typeof DTYPES)[number];

export const CAPABILITIES = ['generate', 'understand', 'edit'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** A relative path inside the model folder: no absolute paths, no `..`, no backslashes. */
export const relativePath = z
  .string()
  .min(1)
  .refine(
    (p) =>
      !p.startsWith('/') &&
      !p.includes('\\') &&
      !/^[a-zA-Z]:/.test(p) &&
      !p.includes('\0') &&
      p.split('/').every((part) => part !== '..' && part !== '.' && part !== ''),
    { message: 'path must stay inside the model folder' },
  );

export const fileEntrySchema = z
  .object({
    path: relativePath,
    size: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
export type FileEntry = z.infer<typeof fileEntrySchema>;

export const graphVariantSchema = z
  .object({
    file: relativePath,
    externalData: z.array(relativePath).default([]),
  })
  .strict();
export type GraphVariant = z.infer<typeof graphVariantSchema>;

export const llmConfigSchema = z
  .object({
    hiddenSize: z.number().int().positive(),
    intermediateSize: z.number().int().positive(),
    numLayers: z.number().int().positive(),
    numHeads: z.number().int().positive(),
    numKeyValueHeads: z.number().int().positive(),
    headDim: z.number().int().positive(),
    ropeTheta: z.number().positive(),
    rmsNormEps: z.number().positive(),
    vocabSize: z.number().int().positive(),
    maxPositionEmbeddings: z.number().int().positive(),
  })
  .strict();

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

/**
 * Text-generation defaults from the LLM folder's generation_config.json (what transformers'
 * `generate` inherits in the official code). A call option overrides each; a manifest without
 * this section gets the SDK's defaults (Qwen2.5-1.5B-Instruct's values). temperature/topK/topP
 * apply only when a call samples (docs/text.md).
 */
export const generationDefaultsSchema = z
  .object({
    repetitionPenalty: z.number().positive().max(100),
    temperature: z.number().positive().max(100),
    topK: z.number().int().min(0),
    topP: z.number().gt(0).max(1),
  })
  .strict();
export type GenerationDefaults = z.infer<typeof generationDefaultsSchema>;

export const resolutionSchema = z
  .object({
    /** Output image side in pixels. */
    size: z.number().int().positive(),
    /** Latent grid side (size / vae stride). */
    grid: z.number().int().positive(),
    tables: relativePath,
  })
  .strict();

export const manifestSchema = z
  .object({
    format: z.literal('unipic'),
    version: z.literal(MANIFEST_VERSION),
    name: z.string(),
    /** Where the weights came from (checkpoint description), for the record. */
    source: z.string().optional(),
    config: modelConfigSchema,
    generation: generationDefaultsSchema.optional(),
    tokenizer: z.object({ json: relativePath, config: relativePath }).strict(),
    constants: relativePath,
    resolutions: z.array(resolutionSchema).min(1),
    /** graph name → dtype → files. */
    graphs: z.partialRecord(z.enum(GRAPH_NAMES), z.partialRecord(z.enum(DTYPES), graphVariantSchema)),
    files: z.array(fileEntrySchema),
  })
  .strict();
export type Manifest = z.infer<typeof manifestSchema>;

/**
 * Graphs a capability uses when the folder has them (`unipic convert --fused-sampler`): the whole
 * 100-step diffusion sampler in one graph, guided and unguided, instead of 100 `diffusion_head` runs.
 */
export const OPTIONAL_CAPABILITY_GRAPHS: Record<Capability, readonly GraphName[]> = {
  generate: ['diffusion_sampler', 'diffusion_sampler_plain'],
  understand: [],
  edit: ['diffusion_sampler', 'diffusion_sampler_plain'],
};

export const CAPABILITY_GRAPHS: Record<Capability, readonly GraphName[]> = {
  generate: ['embed', 'llm', 'mar_encoder', 'mar_decoder', 'diffusion_head', 'vae_decoder'],
  understand: ['embed', 'llm', 'lm_head', 'mar_encoder', 'vae_encoder'],
  edit: ['embed', 'llm', 'mar_encoder', 'mar_decoder', 'decoder_embed', 'diffusion_head', 'vae_encoder', 'vae_decoder'],
};
