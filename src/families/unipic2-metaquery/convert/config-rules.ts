import { useField, ignoreField, neutralField, accountFields, mergeAccounts, type ConfigAccount } from '../../../convert/config-account.js';

const use = useField;
const ignore = ignoreField;
const neutral = neutralField;

const VERSION = ignore('provenance only');

/** conditioner/config.json and its connector_config. */
export function accountConditionerConfig(raw: Readonly<Record<string, unknown>>): ConfigAccount {
  const top = accountFields('conditioner/config.json', raw, {
    _class_name: neutral(['StableDiffusion3Conditioner'], 'the class this converter implements', 'is not the Metaquery conditioner'),
    _diffusers_version: VERSION,
    _name_or_path: VERSION,
    connector_config: use,
    num_queries: use,
    llm_hidden_size: use,
    pooled_projection_dim: use,
    joint_attention_dim: use,
  });
  const connector = raw.connector_config as Record<string, unknown>;
  const inner = accountFields('conditioner/config.json connector_config', connector ?? {}, {
    hidden_size: use,
    intermediate_size: use,
    num_hidden_layers: use,
    num_attention_heads: use,
    layer_norm_eps: use,
    hidden_act: use,
    _attn_implementation: ignore('selects an attention kernel (flash/sdpa/eager), not different maths'),
    attention_dropout: ignore('dropout is inactive at inference'),
  });
  return mergeAccounts(top, inner);
}

/** generation_config.json: the understanding defaults. */
export function accountGenerationConfig(raw: Readonly<Record<string, unknown>>): ConfigAccount {
  return accountFields('generation_config.json', raw, {
    do_sample: use,
    temperature: use,
    top_p: use,
    top_k: use,
    repetition_penalty: use,
    eos_token_id: use,
    bos_token_id: ignore('no BOS is prepended by the Qwen2 tokenizer'),
    pad_token_id: ignore('each prompt row runs alone, without padding'),
    transformers_version: VERSION,
  });
}
