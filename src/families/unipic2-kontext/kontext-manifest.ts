import { stripDecoderSchema } from '../../spec/strip-decoder.js';
import { stripEncoderSchema } from '../../spec/strip-encoder.js';
import { z } from 'zod';
import { DTYPES, fileEntrySchema, graphVariantSchema, MANIFEST_VERSION, relativePath } from '../../spec/manifest.js';
import { KONTEXT_FAMILY, KONTEXT_GRAPHS, kontextConfigSchema } from './kontext-config.js';

const tokenizerEntry = z
  .object({
    file: relativePath,
    /** Added at the start (CLIP only). */
    bos: z.number().int().nonnegative().optional(),
    eos: z.number().int().nonnegative(),
    pad: z.number().int().nonnegative(),
  })
  .strict();
export type KontextTokenizerEntry = z.infer<typeof tokenizerEntry>;

/** `unipic.json` of a converted UniPic2-SD3.5M-Kontext model (docs/model-format.md). */
export const kontextManifestSchema = z
  .object({
    format: z.literal('unipic'),
    version: z.literal(MANIFEST_VERSION),
    family: z.literal(KONTEXT_FAMILY),
    /** Version of this family's sections (docs/model-format.md). */
    familyVersion: z.literal(1).default(1),
    name: z.string(),
    source: z.string().optional(),
    config: kontextConfigSchema,
    tokenizers: z.object({ clipL: tokenizerEntry, clipG: tokenizerEntry, t5: tokenizerEntry.optional() }).strict(),
    graphs: z.partialRecord(z.enum(KONTEXT_GRAPHS), z.partialRecord(z.enum(DTYPES), graphVariantSchema)),
    files: z.array(fileEntrySchema),
    stripDecoder: stripDecoderSchema.optional(),
    stripEncoder: stripEncoderSchema.optional(),
  })
  .strict();
export type KontextManifest = z.infer<typeof kontextManifestSchema>;
