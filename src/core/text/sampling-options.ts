import { z } from 'zod';

/**
 * Token-selection options for understanding. The defaults reproduce what `scripts/image2text.py`
 * gets from transformers 4.45: `do_sample=False` from the script, everything else from
 * Qwen2.5-1.5B-Instruct's generation_config.json, which `from_pretrained` loads with the model.
 * Greedy decoding ignores temperature/topK/topP but not the repetition penalty (docs/text.md).
 */
export const textSamplingShape = {
  /** false: greedy (argmax, ties to the lowest id). true: sample after temperature/top-k/top-p. */
  doSample: z.boolean().default(false),
  temperature: z.number().positive().max(100).default(0.7),
  /** 0 turns top-k off. */
  topK: z.number().int().min(0).default(20),
  /** 1 turns top-p off. */
  topP: z.number().gt(0).max(1).default(0.8),
  /** Over the generated tokens only (never the prompt); 1 turns it off. */
  repetitionPenalty: z.number().positive().max(100).default(1.1),
};

export const textSamplingSchema = z.object(textSamplingShape).strict();
export type TextSamplingInput = z.input<typeof textSamplingSchema>;
export type TextSamplingOptions = z.output<typeof textSamplingSchema>;

export const DEFAULT_TEXT_SAMPLING: TextSamplingOptions = Object.freeze(textSamplingSchema.parse({}));
