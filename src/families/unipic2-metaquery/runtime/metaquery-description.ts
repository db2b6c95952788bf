import { z } from 'zod';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';

const positive = z.number().int().positive();
const graph = z.object({ file: z.string().min(1), dtype: z.string(), externalData: z.array(z.string()) });

/** The parts of `metaquery.json` (docs/model-format.md) the runtime reads; the rest is informative. */
export const metaqueryDescriptionSchema = z.object({
  family: z.literal('unipic2-metaquery'),
  config: z.object({
    llm: z.object({
      hiddenSize: positive,
      intermediateSize: positive,
      numLayers: positive,
      numHeads: positive,
      numKeyValueHeads: positive,
      headDim: positive,
      ropeTheta: z.number().positive(),
      rmsNormEps: z.number().positive(),
      vocabSize: positive,
      maxPositionEmbeddings: positive,
    }),
    mropeSection: z.array(z.number().int().min(0)),
    vision: z.object({ headDim: positive, patchSize: positive, spatialMergeSize: positive, windowSize: positive, temporalPatchSize: positive }).passthrough(),
    imageTokenId: z.number().int().min(0),
    numQueries: positive,
  }),
  processor: z.object({ minPixels: positive, maxPixels: positive }),
  generation: z.record(z.string(), z.unknown()),
  eosIds: z.array(z.number().int().min(0)).min(1),
  graphs: z.object({ vision: graph, embed: graph, llm: graph, lm_head: graph, conditioner: graph }),
  tables: z.object({ metaQueries: z.string().min(1) }),
  tokenizer: z.object({ json: z.string().min(1), config: z.string().min(1) }),
});

export type MetaqueryDescription = z.output<typeof metaqueryDescriptionSchema>;

export function parseMetaqueryDescription(json: unknown): MetaqueryDescription {
  const parsed = metaqueryDescriptionSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidModelError(
      `metaquery.json is not a UniPic2-Metaquery description: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}
