import { InvalidModelError } from '../../../errors/invalid-model-error.js';

/** `conditioner/config.json` (the official `StableDiffusion3Conditioner`, UniPic-2 `unipicv2/`). */
export interface ConditionerConfig {
  readonly numQueries: number;
  readonly llmHiddenSize: number;
  readonly pooledProjectionDim: number;
  readonly jointAttentionDim: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly layerNormEps: number;
}

/**
 * ConnectorConfig defaults apply to keys the stub does not write (hidden_act gelu_pytorch_tanh,
 * layer_norm_eps 1e-6). `_attn_implementation` selects a kernel, not different maths, and
 * `attention_dropout` is inactive at inference: both are accepted and ignored. Any other activation
 * is refused.
 */
export function parseConditionerConfig(raw: Record<string, unknown>): ConditionerConfig {
  const connector = raw.connector_config;
  if (typeof connector !== 'object' || connector === null) throw new InvalidModelError('conditioner/config.json has no connector_config');
  const c = connector as Record<string, unknown>;
  const act = c.hidden_act ?? 'gelu_pytorch_tanh';
  if (act !== 'gelu_pytorch_tanh') throw new InvalidModelError(`conditioner connector hidden_act ${String(act)} is not supported`);
  const get = (source: Record<string, unknown>, key: string, fallback?: number): number => {
    const value = source[key] ?? fallback;
    if (typeof value !== 'number' || !(value > 0)) throw new InvalidModelError(`conditioner/config.json: ${key} must be a positive number`);
    return value;
  };
  const hiddenSize = get(c, 'hidden_size', 768);
  const numHeads = get(c, 'num_attention_heads', 12);
  if (hiddenSize % numHeads !== 0) throw new InvalidModelError('conditioner: hidden_size must be a multiple of num_attention_heads');
  return {
    numQueries: get(raw, 'num_queries', 256),
    llmHiddenSize: get(raw, 'llm_hidden_size', 3584),
    pooledProjectionDim: get(raw, 'pooled_projection_dim', 2048),
    jointAttentionDim: get(raw, 'joint_attention_dim', 4096),
    hiddenSize,
    intermediateSize: get(c, 'intermediate_size', 3072),
    numLayers: get(c, 'num_hidden_layers', 12),
    numHeads,
    layerNormEps: get(c, 'layer_norm_eps', 1e-6),
  };
}
