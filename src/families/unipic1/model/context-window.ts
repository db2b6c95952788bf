import { InvalidInputError } from '../../../errors/invalid-input-error.js';
import type { ModelConfig } from '../manifest.js';

/**
 * Refuse a call that needs more positions than the LLM was trained for. RoPE is computed from the
 * position ids, so the graphs would run past the limit and silently degrade instead of failing.
 */
export function checkContextWindow(config: ModelConfig, positions: number, what: string): void {
  const limit = config.llm.maxPositionEmbeddings;
  if (positions <= limit) return;
  throw new InvalidInputError(`${what} needs ${positions} positions, more than the model's context of ${limit}; shorten the prompt`, {
    details: { positions, limit },
  });
}
