import { z } from 'zod';

/**
 * The numbers of a Qwen2-style decoder-only LLM (hidden size, layers, heads, RoPE), as a manifest
 * states them. Families built on a Qwen2 decoder share the schema, the graph builder
 * (src/convert/graphs/llm/) and the KV-cache helpers (src/core/kv-cache.ts).
 */
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
export type LlmConfig = z.infer<typeof llmConfigSchema>;
