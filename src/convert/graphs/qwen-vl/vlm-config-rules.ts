import { useField, ignoreField, neutralField, accountFields, mergeAccounts, type ConfigAccount, type FieldRule } from '../../config-account.js';
import { QWEN2_VL_PATCHES } from '../../../core/qwen-vl/pixel-patches.js';

const use = useField;
const ignore = ignoreField;
const neutral = neutralField;

const TRAINING = ignore('training-time setting, no effect on inference');
const VERSION = ignore('provenance only');
const DTYPE = ignore('the stored dtype is read from each tensor');

/** Fields of the language-model part (top level of the published config, or `text_config`). */
const TEXT_RULES: Record<string, FieldRule> = {
  hidden_size: use,
  intermediate_size: use,
  num_attention_heads: use,
  num_hidden_layers: use,
  num_key_value_heads: use,
  rms_norm_eps: use,
  rope_theta: use,
  rope_scaling: use,
  vocab_size: use,
  max_position_embeddings: use,
  tie_word_embeddings: use,
  hidden_act: neutral(['silu'], 'SiLU is what the graph computes', 'is not supported (the decoder MLP is SiLU-gated)'),
  use_sliding_window: neutral([false], 'sliding-window attention is off', 'is not supported (sliding-window attention)'),
  sliding_window: ignore('only read when use_sliding_window is true, which is refused'),
  max_window_layers: ignore('only read when use_sliding_window is true, which is refused'),
  layer_types: ignore('per-layer attention kinds derived from use_sliding_window (refused when true)'),
  attention_dropout: neutral([0, 0.0], 'dropout is inactive at inference', 'is refused: a non-zero dropout is a training setting unipic would ignore'),
  initializer_range: TRAINING,
  use_cache: ignore('a runtime switch; unipic always keeps a KV cache for decoding'),
  torch_dtype: DTYPE,
  dtype: DTYPE,
  architectures: ignore('class name; model_type is checked'),
  model_type: use,
  transformers_version: VERSION,
  bos_token_id: ignore('no BOS is prepended by the Qwen2 tokenizer'),
  eos_token_id: ignore('the end tokens come from generation_config.json'),
  pad_token_id: ignore('each prompt row runs alone, without padding'),
};

const TOP_RULES: Record<string, FieldRule> = {
  ...TEXT_RULES,
  text_config: use,
  vision_config: use,
  image_token_id: use,
  vision_start_token_id: use,
  vision_end_token_id: use,
  vision_token_id: ignore('not part of image prompts'),
  video_token_id: ignore('video input is not supported; a video token never appears in unipic prompts'),
};

const VISION_RULES: Record<string, FieldRule> = {
  depth: use,
  hidden_size: use,
  intermediate_size: use,
  num_heads: use,
  out_hidden_size: use,
  patch_size: use,
  spatial_merge_size: use,
  temporal_patch_size: use,
  window_size: use,
  fullatt_block_indexes: use,
  hidden_act: neutral(['silu'], 'SiLU is what the graph computes', 'is not supported (the vision MLP is SiLU-gated)'),
  in_chans: neutral([3], 'RGB input', 'is not supported (RGB only)'),
  in_channels: neutral([3], 'RGB input', 'is not supported (RGB only)'),
  spatial_patch_size: ignore('legacy duplicate of patch_size'),
  tokens_per_second: ignore('temporal positions of video frames only'),
  model_type: ignore('part of the parent qwen2_5_vl config'),
  initializer_range: TRAINING,
  torch_dtype: DTYPE,
  dtype: DTYPE,
};

const ROPE_RULES: Record<string, FieldRule> = {
  type: use,
  rope_type: use,
  mrope_section: use,
};

/** Every field of a Qwen2.5-VL config.json, used, ignored with a reason, or refused. */
export function accountVlmConfig(raw: Readonly<Record<string, unknown>>): ConfigAccount {
  const parts = [accountFields('config.json', raw, TOP_RULES)];
  const object = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (object(raw.text_config))
    parts.push(
      accountFields('config.json text_config', raw.text_config, { ...TEXT_RULES, image_token_id: use, vision_start_token_id: use, vision_end_token_id: use }),
    );
  if (object(raw.vision_config)) parts.push(accountFields('config.json vision_config', raw.vision_config, VISION_RULES));
  for (const scope of [raw, raw.text_config])
    if (object(scope) && object(scope.rope_scaling)) parts.push(accountFields('config.json rope_scaling', scope.rope_scaling, ROPE_RULES));
  return mergeAccounts(...parts);
}

/** preprocessor_config.json: the pixel budget is used; everything else must be what the TS processor does. */
export function accountPreprocessorConfig(raw: Readonly<Record<string, unknown>>): ConfigAccount {
  const fixed = (value: unknown, what: string) =>
    neutral([value], `${what}, as unipic's processor does`, `differs from Qwen2-VL's processor, which unipic implements`);
  return accountFields('preprocessor_config.json', raw, {
    min_pixels: use,
    max_pixels: use,
    size: use,
    patch_size: fixed(14, 'patch 14'),
    temporal_patch_size: fixed(2, 'temporal patch 2'),
    merge_size: fixed(2, 'merge 2'),
    image_mean: fixed([...QWEN2_VL_PATCHES.mean], 'CLIP mean'),
    image_std: fixed([...QWEN2_VL_PATCHES.std], 'CLIP std'),
    do_resize: fixed(true, 'smart_resize'),
    do_rescale: fixed(true, 'rescale by 1/255'),
    rescale_factor: fixed(1 / 255, 'rescale by 1/255'),
    do_normalize: fixed(true, 'normalisation'),
    do_convert_rgb: fixed(true, 'RGB conversion'),
    resample: fixed(3, 'bicubic resize'),
    image_processor_type: ignore('unipic implements the fast (torchvision) variant transformers 4.55 selects'),
    processor_class: ignore('class name'),
  });
}
