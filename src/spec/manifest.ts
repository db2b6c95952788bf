import { stripDecoderSchema } from './strip-decoder.js';
import { stripEncoderSchema } from './strip-encoder.js';
import { z } from 'zod';

/** Version of the `unipic.json` layout this SDK reads. Bump on any incompatible change. */
export const MANIFEST_VERSION = 1 as const;

/**
 * Precision of a built graph. Boundaries stay float32 for every choice; `fp16` stores weights and
 * computes matrix products in half precision; `q4` stores linear weights as 4-bit blocks with
 * float32 scales; `q4f16` does the same with half-precision activations and scales; `q8` stores
 * linear weights as int8 per output channel and quantizes activations to 8 bits at run time
 * (com.microsoft DynamicQuantizeMatMul: the CPU's int8 GEMM), for compute-bound graphs.
 */
export const DTYPES = ['fp32', 'fp16', 'q4', 'q4f16', 'q8'] as const;
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

/**
 * How a model's `llm` graph takes its KV cache (docs/model-format.md, "KV cache"): `concat` (past
 * in, past ++ new out as `present.*`) or `in-place` (a pre-allocated buffer read in place, only
 * `new_key_values.*` out).
 */
export const KV_CACHE_KINDS = ['concat', 'in-place'] as const;
export type KvCacheKind = (typeof KV_CACHE_KINDS)[number];

/**
 * How an `in-place` cache's buffers lie (docs/model-format.md, "KV cache"): `values-transposed`
 * (keys `[…, capacity, head_dim]`, values `[…, head_dim, capacity]`: what `unipic convert` writes)
 * or `keys-transposed` (keys `[…, head_dim, capacity]`, values `[…, capacity, head_dim]`: the first
 * in-place graphs, whose manifests have no `kvCacheLayout`).
 */
export const IN_PLACE_KV_LAYOUTS = ['values-transposed', 'keys-transposed'] as const;
export type InPlaceKvLayout = (typeof IN_PLACE_KV_LAYOUTS)[number];

/** The family a manifest without a `family` field belongs to: folders converted before families existed. */
export const DEFAULT_FAMILY = 'unipic1';

/**
 * Text-generation defaults from the LLM folder's generation_config.json (what transformers'
 * `generate` inherits in the official code). A call option overrides each; a manifest without
 * this section gets the SDK's defaults (the family's documented values). temperature/topK/topP
 * apply only when a call samples (docs/text.md). Family-neutral: every family with a text decoder
 * may carry it.
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

/** A graph's name in a manifest; each family declares its own (docs/model-format.md). */
export type GraphName = string;

/**
 * The family-neutral part of `unipic.json`: format, version, which model family wrote it, the
 * graphs (name → dtype → files) and every file with its size and sha256. The family's own sections
 * (`config`, `tokenizer`, tables…) pass through here and are validated by the family's schema
 * (`ModelFamily.manifestSchema`) before anything reads them.
 */
export const manifestSchema = z
  .object({
    format: z.literal('unipic'),
    version: z.literal(MANIFEST_VERSION),
    /** The model family (default `unipic1`): which runtime pipelines and converter plan apply. */
    family: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'a family id is lowercase letters, digits and dashes')
      .default(DEFAULT_FAMILY),
    /** The version of the family's own sections, read by the family (default 1). */
    familyVersion: z.number().int().positive().default(1),
    name: z.string(),
    /** Where the weights came from (checkpoint description), for the record. */
    source: z.string().optional(),
    /** graph name → dtype → files. */
    graphs: z.record(z.string(), z.partialRecord(z.enum(DTYPES), graphVariantSchema)),
    files: z.array(fileEntrySchema),
    /** How to run the `vae_decoder_strips` graph, when the folder has one (docs/model-format.md, "Strip VAE decoder"). */
    stripDecoder: stripDecoderSchema.optional(),
    /** How to run the `vae_encoder_strips` graph, when the folder has one (docs/model-format.md, "Strip VAE encoder"). */
    stripEncoder: stripEncoderSchema.optional(),
    /**
     * How the `llm` graph takes its KV cache (docs/model-format.md, "KV cache"): `in-place` (a
     * pre-allocated buffer read in place, only the new keys/values out) or `concat` (past ++ new
     * out). Absent means `concat`: folders converted before the in-place cache.
     */
    kvCache: z.enum(KV_CACHE_KINDS).optional(),
    /** The in-place buffers' layout (only with `kvCache: 'in-place'`); absent means `keys-transposed`, the first in-place graphs. */
    kvCacheLayout: z.enum(IN_PLACE_KV_LAYOUTS).optional(),
  })
  .loose();
export type Manifest = z.infer<typeof manifestSchema>;
