import { LLM_GRAPHS } from '../../../spec/llm-graphs.js';
import { contractInput, contractOutput } from '../../onnx/contract-io.js';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { LlmConfig } from '../../../spec/llm-config.js';
import { linear, type LinearOptions } from '../layers/linear.js';
import type { GraphContext, WeightSource } from '../weights.js';
import { EMBED_WEIGHT } from './embed-graph.js';

export const LM_HEAD_WEIGHT = 'llm.lm_head.weight';

/**
 * The output projection's weight key: Qwen2.5-1.5B ties it to the embedding, but a checkpoint may
 * also save `llm.lm_head.weight`; a separate key is used only when its values differ.
 */
export function lmHeadWeightName(weights: WeightSource): string {
  if (!weights.has(LM_HEAD_WEIGHT)) return EMBED_WEIGHT;
  if (!weights.has(EMBED_WEIGHT)) return LM_HEAD_WEIGHT;
  const head = weights.float32(LM_HEAD_WEIGHT);
  const embed = weights.float32(EMBED_WEIGHT);
  if (head.length !== embed.length) return LM_HEAD_WEIGHT;
  for (let i = 0; i < head.length; i++) if (head[i] !== embed[i]) return LM_HEAD_WEIGHT;
  return EMBED_WEIGHT;
}

/**
 * `lm_head` graph: `hidden [B, H]` (already final-normed) → `logits [B, V]`. The core calls it
 * for the last position only, so the vocabulary product is never taken over image tokens.
 */
export function buildLmHeadGraph(ctx: GraphContext, config: { readonly llm: LlmConfig }, options: LinearOptions = {}): void {
  const { builder } = ctx;
  const weightName = lmHeadWeightName(ctx.weights);
  const [vocab, hidden] = ctx.weights.shape(weightName);
  if (hidden !== config.llm.hiddenSize) throw new InvalidModelError(`lm head width ${hidden} ≠ hidden size ${config.llm.hiddenSize}`);
  const input = contractInput(builder, LLM_GRAPHS.lm_head, 'hidden', { hidden });
  contractOutput(builder, LLM_GRAPHS.lm_head, linear(ctx, input, weightName, undefined, options), 'logits', { vocab });
}
