import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { GenerationDefaults } from '../../../spec/manifest.js';
import { useField, ignoreField, neutralField, accountFields, type ConfigAccount, type FieldRule } from '../../../convert/config-account.js';

const USE = useField;
const ignore = ignoreField;
const neutral = neutralField;
const UNIMPLEMENTED = 'asks for a logits processor unipic does not implement';
const BEAM_ONLY = 'only used by beam search (num_beams is 1)';
const OUTPUT_ONLY = 'shapes what generate returns, not the tokens';

/**
 * Every field of transformers' `GenerationConfig` (4.45) that a `generation_config.json` may hold.
 * The official understanding script calls `generate(do_sample=False, max_new_tokens=1024,
 * eos_token_id=<|im_end|>, pad_token_id=…)` on a model loaded with `from_pretrained`, so these
 * explicit arguments win and every other field comes from this file.
 */
const GENERATION_RULES: Readonly<Record<string, FieldRule>> = {
  repetition_penalty: USE,
  temperature: USE,
  top_k: USE,
  top_p: USE,
  do_sample: ignore("the official script passes do_sample=False; unipic's doSample call option (default false) stands for that argument"),
  eos_token_id: ignore("the official script passes the tokenizer's <|im_end|> as eos_token_id; unipic stops on <|im_end|> and <|endoftext|> (docs/fidelity.md)"),
  pad_token_id: ignore('the official script passes its own pad id; one decoded row is never padded'),
  bos_token_id: ignore('generation from inputs_embeds inserts no BOS'),
  decoder_start_token_id: ignore('encoder-decoder models only'),
  max_new_tokens: ignore("the official script passes max_new_tokens=1024, unipic's maxTokens default"),
  max_length: ignore('the official script passes max_new_tokens, which takes precedence'),
  max_time: ignore('a wall-clock limit, not part of the result; use an AbortSignal'),
  transformers_version: ignore('provenance only'),
  _from_model_config: ignore('provenance only'),
  use_cache: ignore('unipic manages the KV cache itself'),
  cache_implementation: ignore('how the KV cache is stored, not the tokens'),
  num_beams: neutral([1], 'greedy or sampling, one beam', 'asks for beam search, which unipic does not implement'),
  num_beam_groups: neutral([1], BEAM_ONLY, 'asks for group beam search, which unipic does not implement'),
  num_return_sequences: neutral([1], 'one answer per call', 'asks for several answers per call'),
  length_penalty: ignore(BEAM_ONLY),
  early_stopping: ignore(BEAM_ONLY),
  diversity_penalty: neutral([0, 0.0], BEAM_ONLY, 'asks for group beam search'),
  no_repeat_ngram_size: neutral([0], 'off', UNIMPLEMENTED),
  encoder_no_repeat_ngram_size: neutral([0], 'off', UNIMPLEMENTED),
  encoder_repetition_penalty: neutral([1, 1.0], 'off', UNIMPLEMENTED),
  min_length: neutral([0], 'off', UNIMPLEMENTED),
  min_new_tokens: neutral([null, 0], 'off', UNIMPLEMENTED),
  bad_words_ids: neutral([null], 'off', UNIMPLEMENTED),
  force_words_ids: neutral([null], 'off', UNIMPLEMENTED),
  suppress_tokens: neutral([null], 'off', UNIMPLEMENTED),
  begin_suppress_tokens: neutral([null], 'off', UNIMPLEMENTED),
  forced_bos_token_id: neutral([null], 'off', UNIMPLEMENTED),
  forced_eos_token_id: neutral([null], 'off', UNIMPLEMENTED),
  forced_decoder_ids: neutral([null], 'off', UNIMPLEMENTED),
  sequence_bias: neutral([null], 'off', UNIMPLEMENTED),
  exponential_decay_length_penalty: neutral([null], 'off', UNIMPLEMENTED),
  typical_p: neutral([1, 1.0], 'off', UNIMPLEMENTED),
  min_p: neutral([null], 'off', UNIMPLEMENTED),
  epsilon_cutoff: neutral([0, 0.0], 'off', UNIMPLEMENTED),
  eta_cutoff: neutral([0, 0.0], 'off', UNIMPLEMENTED),
  penalty_alpha: neutral([null], 'off (no contrastive search)', 'asks for contrastive search, which unipic does not implement'),
  guidance_scale: neutral([null, 1, 1.0], 'off', 'asks for classifier-free guidance in text generation, which unipic does not implement'),
  renormalize_logits: neutral([false], 'off', UNIMPLEMENTED),
  remove_invalid_values: neutral([false], 'off', UNIMPLEMENTED),
  token_healing: neutral([false], 'off', UNIMPLEMENTED),
  watermarking_config: neutral([null], 'off', UNIMPLEMENTED),
  stop_strings: neutral([null], 'off (unipic has a stop call option)', 'sets default stop strings, which unipic does not take from the config'),
  assistant_model: neutral([null], 'off', 'asks for assisted generation'),
  prompt_lookup_num_tokens: neutral([null], 'off', 'asks for prompt-lookup decoding'),
  num_assistant_tokens: ignore('assisted generation only (off)'),
  num_assistant_tokens_schedule: ignore('assisted generation only (off)'),
  output_attentions: ignore(OUTPUT_ONLY),
  output_hidden_states: ignore(OUTPUT_ONLY),
  output_scores: ignore(OUTPUT_ONLY),
  output_logits: ignore(OUTPUT_ONLY),
  return_dict_in_generate: ignore(OUTPUT_ONLY),
};

/**
 * transformers' defaults when the LLM folder has no generation_config.json: `from_pretrained`
 * then builds one from the model config, whose sampling fields are GenerationConfig's defaults.
 */
export const TRANSFORMERS_GENERATION_DEFAULTS: GenerationDefaults = { repetitionPenalty: 1, temperature: 1, topK: 50, topP: 1 };

/** Qwen2.5-1.5B-Instruct's generation_config.json, for a checkpoint without its LLM folder. */
export const QWEN2_5_INSTRUCT_GENERATION: GenerationDefaults = { repetitionPenalty: 1.1, temperature: 0.7, topK: 20, topP: 0.8 };

/** The manifest's generation defaults from a `generation_config.json`, and the account of its fields. */
export function readGenerationConfig(json: Readonly<Record<string, unknown>>, file: string): { defaults: GenerationDefaults; account: ConfigAccount } {
  const account = accountFields(file, json, GENERATION_RULES);
  const value = (field: string, fallback: number, valid: (v: number) => boolean, rule: string): number => {
    const raw = json[field];
    if (raw === undefined || raw === null) return fallback;
    if (typeof raw !== 'number' || !valid(raw)) throw new InvalidModelError(`${file}: "${field}" is ${JSON.stringify(raw)}; it must be ${rule}`);
    return raw;
  };
  const d = TRANSFORMERS_GENERATION_DEFAULTS;
  return {
    defaults: {
      repetitionPenalty: value('repetition_penalty', d.repetitionPenalty, (v) => v > 0 && v <= 100, 'a number in (0, 100]'),
      temperature: value('temperature', d.temperature, (v) => v > 0 && v <= 100, 'a number in (0, 100]'),
      topK: value('top_k', d.topK, (v) => Number.isInteger(v) && v >= 0, 'a whole number ≥ 0'),
      topP: value('top_p', d.topP, (v) => v > 0 && v <= 1, 'a number in (0, 1]'),
    },
    account,
  };
}
