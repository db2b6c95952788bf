import { z } from 'zod';
import { stripDecoderSchema } from '../../spec/strip-decoder.js';
import { stripEncoderSchema } from '../../spec/strip-encoder.js';
import { flowMatchConfigSchema, sd3TransformerConfigSchema, sd3VaeConfigSchema } from '../../core/diffusion/sd3-diffusion-config.js';
import { DTYPES, graphVariantSchema, manifestSchema } from '../../spec/manifest.js';
import { metaqueryDescriptionSchema } from './runtime/metaquery-description.js';

/** The family id in `unipic.json`. */
export const METAQUERY_FAMILY = 'unipic2-metaquery';
export const METAQUERY_FAMILY_VERSION = 1;
export const METAQUERY_GRAPHS = [
  'vision',
  'embed',
  'llm',
  'lm_head',
  'conditioner',
  'transformer',
  'vae_encoder',
  'vae_decoder',
  'vae_decoder_strips',
  'vae_encoder_strips',
] as const;

/**
 * The runtime numbers: the VLM's, and the SD3.5M-Kontext sampler's (`transformer`, `vae`,
 * `scheduler`, as UniPic2-Kontext records them) when the folder has the diffusion graphs.
 */
export const metaqueryConfigSchema = metaqueryDescriptionSchema.shape.config.extend({
  transformer: sd3TransformerConfigSchema.optional(),
  vae: sd3VaeConfigSchema.optional(),
  scheduler: flowMatchConfigSchema.optional(),
});

/** Understanding defaults (the checkpoint's generation_config.json) and its end-of-text ids. */
export const metaquerySamplingSchema = z
  .object({
    doSample: z.boolean(),
    temperature: z.number().positive().max(100),
    topK: z.number().int().min(0),
    topP: z.number().gt(0).max(1),
    repetitionPenalty: z.number().positive().max(100),
    eosIds: z.array(z.number().int().min(0)).min(1),
  })
  .strict();

/**
 * UniPic2-Metaquery's `unipic.json` (docs/model-format.md): the family-neutral fields plus `config`
 * (runtime numbers, the sampler's included), `processor` (pixel budget), `sampling`, `tokenizer`,
 * `tables` (meta-queries).
 */
export const metaqueryManifestSchema = manifestSchema
  .extend({
    family: z.literal(METAQUERY_FAMILY),
    familyVersion: z.literal(METAQUERY_FAMILY_VERSION),
    graphs: z.partialRecord(z.enum(METAQUERY_GRAPHS), z.partialRecord(z.enum(DTYPES), graphVariantSchema)),
    config: metaqueryConfigSchema,
    processor: metaqueryDescriptionSchema.shape.processor,
    sampling: metaquerySamplingSchema,
    tokenizer: metaqueryDescriptionSchema.shape.tokenizer,
    tables: metaqueryDescriptionSchema.shape.tables,
    /** The strip VAE decoder's stages (`vae_decoder_strips`), used from 512 px. */
    stripDecoder: stripDecoderSchema.optional(),
    /** The strip VAE encoder's passes (`vae_encoder_strips`), used for edit images from 512 px. */
    stripEncoder: stripEncoderSchema.optional(),
  })
  .strict();

export type MetaqueryManifest = z.output<typeof metaqueryManifestSchema>;
