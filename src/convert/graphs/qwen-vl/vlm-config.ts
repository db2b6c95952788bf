import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { LlmConfig } from '../llm/llm-graph.js';

/** Qwen2.5-VL vision tower numbers (config.json `vision_config`). */
export interface VisionConfig {
  readonly depth: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly outHiddenSize: number;
  readonly patchSize: number;
  readonly temporalPatchSize: number;
  readonly spatialMergeSize: number;
  readonly windowSize: number;
  readonly fullAttentionBlocks: readonly number[];
  readonly rmsNormEps: number;
}

export interface VlmConfig {
  readonly llm: LlmConfig;
  /** Frequency slots per t/h/w row (sums to headDim/2). */
  readonly mropeSection: readonly number[];
  readonly vision: VisionConfig;
  readonly imageTokenId: number;
  readonly visionStartTokenId: number;
  readonly visionEndTokenId: number;
  readonly tieWordEmbeddings: boolean;
}

/**
 * Reads a Qwen2.5-VL `config.json` in either schema: the published flat one (text keys at the top,
 * transformers 4.41-era) or the nested `text_config` one newer transformers write. Fields that only
 * select kernels or training behaviour (`attention_dropout`, `use_sliding_window` false, `sliding_window`,
 * `max_window_layers`, `initializer_range`, `torch_dtype`, `use_cache`, `tokens_per_second` — video
 * only) are ignored knowingly; anything that would change the maths and is unsupported is refused.
 */
export function parseVlmConfig(raw: Record<string, unknown>): VlmConfig {
  const text = (isObject(raw.text_config) ? { ...raw, ...raw.text_config } : raw) as Record<string, unknown>;
  const vision = raw.vision_config;
  if (!isObject(vision)) throw new InvalidModelError('Qwen2.5-VL config.json has no vision_config');
  if (raw.model_type !== undefined && raw.model_type !== 'qwen2_5_vl')
    throw new InvalidModelError(`config.json model_type ${String(raw.model_type)} is not qwen2_5_vl`);
  if (text.use_sliding_window === true) throw new InvalidModelError('Qwen2.5-VL config.json: use_sliding_window is not supported');
  if (text.hidden_act !== undefined && text.hidden_act !== 'silu')
    throw new InvalidModelError(`Qwen2.5-VL text hidden_act ${String(text.hidden_act)} is not supported`);
  if (vision.hidden_act !== undefined && vision.hidden_act !== 'silu')
    throw new InvalidModelError(`Qwen2.5-VL vision hidden_act ${String(vision.hidden_act)} is not supported`);
  const scaling = (isObject(text.rope_scaling) ? text.rope_scaling : isObject(raw.rope_scaling) ? raw.rope_scaling : {}) as Record<string, unknown>;
  const ropeType = scaling.rope_type ?? scaling.type ?? 'default';
  if (ropeType !== 'mrope' && ropeType !== 'default') throw new InvalidModelError(`Qwen2.5-VL rope type ${String(ropeType)} is not supported`);
  const hiddenSize = int(text, 'hidden_size');
  const numHeads = int(text, 'num_attention_heads');
  const headDim = hiddenSize / numHeads;
  const mropeSection = Array.isArray(scaling.mrope_section) ? scaling.mrope_section.map(Number) : [headDim / 2, 0, 0];
  if (mropeSection.reduce((a, b) => a + b, 0) !== headDim / 2)
    throw new InvalidModelError(`mrope_section ${mropeSection.join(',')} does not sum to head_dim/2 = ${headDim / 2}`);
  const visionHidden = int(vision, 'hidden_size');
  const visionHeads = int(vision, 'num_heads');
  return {
    llm: {
      hiddenSize,
      intermediateSize: int(text, 'intermediate_size'),
      numLayers: int(text, 'num_hidden_layers'),
      numHeads,
      numKeyValueHeads: int(text, 'num_key_value_heads'),
      headDim,
      ropeTheta: num(text, 'rope_theta'),
      rmsNormEps: num(text, 'rms_norm_eps'),
      vocabSize: int(text, 'vocab_size'),
      maxPositionEmbeddings: int(text, 'max_position_embeddings'),
    },
    mropeSection,
    vision: {
      depth: int(vision, 'depth'),
      hiddenSize: visionHidden,
      intermediateSize: int(vision, 'intermediate_size'),
      numHeads: visionHeads,
      headDim: visionHidden / visionHeads,
      outHiddenSize: int(vision, 'out_hidden_size'),
      patchSize: int(vision, 'patch_size'),
      temporalPatchSize: int(vision, 'temporal_patch_size'),
      spatialMergeSize: int(vision, 'spatial_merge_size'),
      windowSize: int(vision, 'window_size'),
      fullAttentionBlocks: Array.isArray(vision.fullatt_block_indexes) ? vision.fullatt_block_indexes.map(Number) : [],
      // Qwen2RMSNorm in the vision blocks and merger is built with eps 1e-6 (not a config field).
      rmsNormEps: 1e-6,
    },
    imageTokenId: int(raw, 'image_token_id'),
    visionStartTokenId: int(raw, 'vision_start_token_id'),
    visionEndTokenId: int(raw, 'vision_end_token_id'),
    tieWordEmbeddings: (text.tie_word_embeddings ?? raw.tie_word_embeddings) === true,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function num(source: Record<string, unknown>, key: string): number {
  const value = source[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidModelError(`Qwen2.5-VL config.json: ${key} must be a number`);
  return value;
}

function int(source: Record<string, unknown>, key: string): number {
  const value = num(source, key);
  if (!Number.isInteger(value) || value <= 0) throw new InvalidModelError(`Qwen2.5-VL config.json: ${key} must be a positive integer`);
  return value;
}
