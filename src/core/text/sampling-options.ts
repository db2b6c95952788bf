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

/**
 * The understand call's token-selection options: each one left out falls back to the model's
 * generation defaults (its generation_config.json, stored in the manifest), then to
 * `DEFAULT_TEXT_SAMPLING` (docs/text.md, "Precedence").
 */
export const textSamplingOverridesShape = Object.fromEntries(Object.entries(textSamplingShape).map(([key, schema]) => [key, schema.unwrap().optional()])) as {
  [K in keyof typeof textSamplingShape]: z.ZodOptional<ReturnType<(typeof textSamplingShape)[K]['unwrap']>>;
};

/** The generation defaults a model folder may carry (`unipic.json` → `generation`). */
export interface ModelGenerationDefaults {
  readonly repetitionPenalty: number;
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
}

/**
 * call option > model generation defaults > SDK defaults, field by field. `doSample` has no model
 * default: the official script passes `do_sample=False` whatever generation_config.json says, and
 * the call option stands for that argument. temperature/topK/topP only act when sampling.
 */
export function resolveTextSampling(call: Partial<TextSamplingOptions>, model: ModelGenerationDefaults | undefined): TextSamplingOptions {
  const pick = <K extends keyof ModelGenerationDefaults>(key: K) => call[key] ?? model?.[key] ?? DEFAULT_TEXT_SAMPLING[key];
  return {
    doSample: call.doSample ?? DEFAULT_TEXT_SAMPLING.doSample,
    temperature: pick('temperature'),
    topK: pick('topK'),
    topP: pick('topP'),
    repetitionPenalty: pick('repetitionPenalty'),
  };
}
