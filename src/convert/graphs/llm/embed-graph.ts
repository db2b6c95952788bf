import { LLM_GRAPHS } from '../../../spec/llm-graphs.js';
import { contractInput, contractOutput } from '../../onnx/contract-io.js';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { LlmConfig } from '../../../spec/llm-config.js';
import { embeddingLookup } from '../layers/embedding.js';
import type { GraphContext } from '../weights.js';

export const EMBED_WEIGHT = 'llm.model.embed_tokens.weight';

export interface EmbedGraphOptions {
  /**
   * For q4/q4f16: `true` (default) stores the table as 4-bit blocks read by com.microsoft
   * GatherBlockQuantized (the table is 15% of the model; 4-bit cuts it from 467 MB in half
   * precision to 131 MB); `false` keeps it float32 (q4) or float16 (q4f16).
   */
  quantize?: boolean;
  symmetric?: boolean;
}

/**
 * `embed` graph: `input_ids [B, T]` → `inputs_embeds [B, T, H]`, a row lookup in
 * `llm.model.embed_tokens.weight`. Lower precisions store the table smaller and widen the looked-up
 * rows to float32 inside the graph.
 */
export function buildEmbedGraph(ctx: GraphContext, config: { readonly llm: LlmConfig }, options: EmbedGraphOptions = {}): void {
  const { builder, weights } = ctx;
  const [, hidden] = weights.shape(EMBED_WEIGHT);
  if (hidden !== config.llm.hiddenSize) throw new InvalidModelError(`embed table width ${hidden} ≠ hidden size ${config.llm.hiddenSize}`);
  const inputIds = contractInput(builder, LLM_GRAPHS.embed, 'input_ids');
  const rows = embeddingLookup(ctx, inputIds, EMBED_WEIGHT, options);
  contractOutput(builder, LLM_GRAPHS.embed, rows, 'inputs_embeds', { hidden });
}
