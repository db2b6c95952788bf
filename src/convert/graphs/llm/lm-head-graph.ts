import { LLM_GRAPHS } from '../../../spec/llm-graphs.js';
import { contractInput, contractOutput } from '../../onnx/contract-io.js';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { LlmConfig } from '../../../spec/llm-config.js';
import { linear, type LinearOptions } from '../layers/linear.js';
import type { GraphContext } from '../weights.js';
import { EMBED_WEIGHT } from './embed-graph.js';

export const LM_HEAD_WEIGHT = 'llm.lm_head.weight';

/**
 * `lm_head` graph: `hidden [B, H]` (already final-normed) → `logits [B, V]`. The core calls it
 * for the last position only, so the vocabulary product is never taken over image tokens.
 */
export function buildLmHeadGraph(ctx: GraphContext, config: { readonly llm: LlmConfig }, options: LinearOptions & { tied?: boolean } = {}): void {
  const { builder } = ctx;
  // tie_word_embeddings decides, as in from_pretrained: tied → the embedding table, else the head's own weight.
  const weightName = options.tied === false ? LM_HEAD_WEIGHT : EMBED_WEIGHT;
  const [vocab, hidden] = ctx.weights.shape(weightName);
  if (hidden !== config.llm.hiddenSize) throw new InvalidModelError(`lm head width ${hidden} ≠ hidden size ${config.llm.hiddenSize}`);
  const input = contractInput(builder, LLM_GRAPHS.lm_head, 'hidden', { hidden });
  contractOutput(builder, LLM_GRAPHS.lm_head, linear(ctx, input, weightName, undefined, options), 'logits', { vocab });
}
