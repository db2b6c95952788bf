import { InvalidInputError } from '../../errors/index.js';
import type { PromptIds } from './prompts.js';

/** Prompts right-padded to one length, the layout the reference feeds the LLM prefix. */
export interface PaddedPromptBatch {
  readonly ids: number[][];
  /** 1 on real tokens, 0 on padding. */
  readonly attentionMask: number[][];
  /** 1 on image slots, whose embeddings are replaced by image features. */
  readonly imageMask: number[][];
  /** Unpadded length of each row. */
  readonly lengths: number[];
  /** Padded length (the longest row). */
  readonly length: number;
}

/**
 * Right-pads rows with `padId`. The reference pads with `eos_token_id` (151645, `<|im_end|>`);
 * padded positions are masked, so the value only matters for parity of recorded inputs.
 */
export function padPromptBatch(prompts: readonly PromptIds[], padId: number): PaddedPromptBatch {
  if (prompts.length === 0) throw new InvalidInputError('a prompt batch needs at least one prompt');
  const length = Math.max(...prompts.map((prompt) => prompt.ids.length));
  const ids: number[][] = [];
  const attentionMask: number[][] = [];
  const imageMask: number[][] = [];
  for (const prompt of prompts) {
    const padding = length - prompt.ids.length;
    ids.push([...prompt.ids, ...new Array<number>(padding).fill(padId)]);
    attentionMask.push(new Array<number>(length).fill(0).fill(1, 0, prompt.ids.length));
    const mask = new Array<number>(length).fill(0);
    if (prompt.imageLength > 0) mask.fill(1, prompt.imageStart, prompt.imageStart + prompt.imageLength);
    imageMask.push(mask);
  }
  return { ids, attentionMask, imageMask, lengths: prompts.map((prompt) => prompt.ids.length), length };
}
