import { z } from 'zod';
import { llmConfigSchema } from '../../spec/llm-config.js';
import { DTYPES, graphVariantSchema, manifestSchema, relativePath } from '../../spec/manifest.js';

/** The family id in `unipic.json`. */
export const UNIPIC3_FAMILY = 'unipic3';
export const UNIPIC3_FAMILY_VERSION = 1;
/** Fixed graph names; the transformer's block groups are `transformer_blocks_<first>_<last>` (listed in `config.transformer.blockGraphs`). */
export const UNIPIC3_FIXED_GRAPHS = ['vision', 'embed', 'llm', 'transformer_in', 'transformer_out', 'vae_encoder', 'vae_decoder'] as const;
export const BLOCK_GRAPH = /^transformer_blocks_\d+_\d+$/;

const positive = z.number().int().positive();

export const unipic3ConfigSchema = z
  .object({
    textEncoder: z
      .object({
        llm: llmConfigSchema,
        mropeSection: z.array(z.number().int().nonnegative()).length(3),
        vision: z.object({ headDim: positive, patchSize: positive, spatialMergeSize: positive, windowSize: positive }).strict(),
        imageTokenId: z.number().int().nonnegative(),
        visionStartTokenId: z.number().int().nonnegative(),
      })
      .strict(),
    transformer: z
      .object({
        inChannels: positive,
        jointAttentionDim: positive,
        /** Inner width (heads × head dim). */
        width: positive,
        axesDims: z.tuple([positive, positive, positive]),
        numLayers: positive,
        /** Parameters (for the device-memory estimate). */
        parameters: positive,
        blockGraphs: z.array(z.string().regex(BLOCK_GRAPH)).min(1),
      })
      .strict(),
    vae: z.object({ zDim: positive, scale: positive }).strict(),
    scheduler: z
      .object({ baseImageSeqLen: positive, maxImageSeqLen: positive, baseShift: z.number(), maxShift: z.number(), shiftTerminal: z.number().min(0).lt(1) })
      .strict(),
    sampler: z.enum(['teacher', 'distilled']),
    steps: z.number().int().min(1).max(1000),
  })
  .strict();

/** UniPic-3's `unipic.json` (docs/model-format.md): the family-neutral fields plus `config` and `tokenizer`. */
export const unipic3ManifestSchema = manifestSchema
  .extend({
    family: z.literal(UNIPIC3_FAMILY),
    familyVersion: z.literal(UNIPIC3_FAMILY_VERSION),
    graphs: z.record(
      z.string().refine((name) => (UNIPIC3_FIXED_GRAPHS as readonly string[]).includes(name) || BLOCK_GRAPH.test(name), { message: 'not a UniPic-3 graph' }),
      z.partialRecord(z.enum(DTYPES), graphVariantSchema),
    ),
    config: unipic3ConfigSchema,
    tokenizer: z.object({ json: relativePath, config: relativePath }).strict(),
  })
  .strict();

export type Unipic3Manifest = z.output<typeof unipic3ManifestSchema>;
