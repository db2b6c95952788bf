import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { useField, ignoreField, accountFields, type ConfigAccount, type FieldRule } from '../../../convert/config-account.js';
import type { CheckpointConfig } from './checkpoint-config.js';

const USE = useField;
const ignore = ignoreField;

/**
 * Every field of a Qwen2 `config.json` (transformers 4.43–5.x schemas) and what the converter does
 * with it. The official code builds the LLM with `from_pretrained` on this file, so a field that
 * changes the computation is either honoured or refused.
 */
const QWEN_RULES: Readonly<Record<string, FieldRule>> = {
  hidden_size: USE,
  intermediate_size: USE,
  num_hidden_layers: USE,
  num_attention_heads: USE,
  num_key_value_heads: USE,
  rope_theta: USE,
  rope_parameters: USE,
  rms_norm_eps: USE,
  vocab_size: USE,
  max_position_embeddings: USE,
  tie_word_embeddings: USE,
  hidden_act: { kind: 'neutral', neutral: ['silu'], why: 'SiLU, the activation the llm graph implements', refusal: 'is not the SiLU the llm graph implements' },
  model_type: { kind: 'neutral', neutral: ['qwen2'], why: 'a Qwen2 decoder, the one the llm graph implements', refusal: 'is not a Qwen2 decoder' },
  architectures: { kind: 'neutral', neutral: [['Qwen2ForCausalLM']], why: 'Qwen2ForCausalLM, as the official config loads it', refusal: 'is not Qwen2ForCausalLM' },
  use_sliding_window: {
    kind: 'neutral',
    neutral: [false],
    why: 'off: every layer attends to the whole context',
    refusal: 'asks for sliding-window attention, which unipic does not implement',
  },
  rope_scaling: {
    kind: 'neutral',
    neutral: [null, { rope_type: 'default' }, { type: 'default' }],
    why: 'no RoPE scaling',
    refusal: 'asks for RoPE scaling, which unipic does not implement',
  },
  layer_types: ignore('checked: every layer is full attention'),
  use_mrope: { kind: 'neutral', neutral: [false], why: 'plain 1-D RoPE', refusal: 'asks for M-RoPE, which UniPic-1 does not use' },
  head_dim: ignore('checked: equals hidden_size / num_attention_heads, what transformers 4.45 Qwen2 uses'),
  attention_dropout: ignore('dropout is inactive at inference'),
  initializer_range: ignore('weight initialisation: training only'),
  max_window_layers: ignore('only matters with use_sliding_window, which is off'),
  sliding_window: ignore('only matters with use_sliding_window, which is off'),
  bos_token_id: ignore('generation from inputs_embeds inserts no BOS; prompts come from the chat template'),
  eos_token_id: ignore(
    "the official understanding script passes the tokenizer's <|im_end|> as eos_token_id; unipic stops on <|im_end|> and <|endoftext|> (docs/fidelity.md)",
  ),
  pad_token_id: ignore('unipic never pads a decoded row; prompt padding uses <|im_end|> as the official code does'),
  torch_dtype: ignore('storage dtype: unipic widens every weight to float32 and writes the dtypes asked for'),
  dtype: ignore('storage dtype: unipic widens every weight to float32 and writes the dtypes asked for'),
  use_cache: ignore('unipic manages the KV cache itself'),
  transformers_version: ignore('provenance only'),
  _name_or_path: ignore('provenance only'),
};

// transformers' Qwen2Config defaults for fields a config.json may leave out (from_pretrained uses them).
const QWEN2_DEFAULTS = { rope_theta: 10000, rms_norm_eps: 1e-6, max_position_embeddings: 32768, tie_word_embeddings: false } as const;

const numberField = (json: Readonly<Record<string, unknown>>, field: string, file: string): number | undefined => {
  const value = json[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidModelError(`${file}: "${field}" is ${JSON.stringify(value)}, not a number`);
  return value;
};

/** The LLM structure numbers a Qwen `config.json` states, and the account of all its fields. */
export function readQwenConfig(json: Readonly<Record<string, unknown>>, file: string): { llm: Partial<CheckpointConfig['llm']>; account: ConfigAccount } {
  const account = accountFields(file, json, QWEN_RULES);
  const num = (field: string) => numberField(json, field, file);
  const rope = json.rope_parameters as { rope_theta?: unknown; rope_type?: unknown } | undefined;
  if (rope !== undefined && (typeof rope !== 'object' || rope === null || (rope.rope_type !== undefined && rope.rope_type !== 'default'))) {
    throw new InvalidModelError(`${file}: "rope_parameters" ${JSON.stringify(rope)} asks for RoPE scaling, which unipic does not implement`);
  }
  const ropeTheta = num('rope_theta') ?? (typeof rope?.rope_theta === 'number' ? rope.rope_theta : undefined);
  if (json.layer_types !== undefined && (!Array.isArray(json.layer_types) || json.layer_types.some((t) => t !== 'full_attention'))) {
    throw new InvalidModelError(`${file}: "layer_types" lists layers other than full_attention, which unipic does not implement`);
  }
  if (json.tie_word_embeddings !== undefined && typeof json.tie_word_embeddings !== 'boolean') {
    throw new InvalidModelError(`${file}: "tie_word_embeddings" is ${JSON.stringify(json.tie_word_embeddings)}, not true or false`);
  }
  const llm: Partial<CheckpointConfig['llm']> = {
    hidden_size: num('hidden_size'),
    intermediate_size: num('intermediate_size'),
    num_hidden_layers: num('num_hidden_layers'),
    num_attention_heads: num('num_attention_heads'),
    num_key_value_heads: num('num_key_value_heads'),
    vocab_size: num('vocab_size'),
    rope_theta: ropeTheta ?? QWEN2_DEFAULTS.rope_theta,
    rms_norm_eps: num('rms_norm_eps') ?? QWEN2_DEFAULTS.rms_norm_eps,
    max_position_embeddings: num('max_position_embeddings') ?? QWEN2_DEFAULTS.max_position_embeddings,
    tie_word_embeddings: (json.tie_word_embeddings as boolean | undefined) ?? QWEN2_DEFAULTS.tie_word_embeddings,
    ...(typeof json.bos_token_id === 'number' ? { bos_token_id: json.bos_token_id } : {}),
    ...(typeof json.eos_token_id === 'number' ? { eos_token_id: json.eos_token_id } : {}),
  };
  for (const key of Object.keys(llm) as (keyof typeof llm)[]) if (llm[key] === undefined) delete llm[key];
  const headDim = num('head_dim');
  if (headDim !== undefined && llm.hidden_size && llm.num_attention_heads && headDim * llm.num_attention_heads !== llm.hidden_size) {
    throw new InvalidModelError(
      `${file}: "head_dim" ${headDim} × ${llm.num_attention_heads} heads ≠ hidden_size ${llm.hidden_size}; transformers 4.45 (the official pin) would ignore head_dim, newer versions would not, so the checkpoint is ambiguous`,
    );
  }
  return { llm, account };
}
