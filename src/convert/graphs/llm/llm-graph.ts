import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { LlmConfig } from '../../../spec/llm-config.js';
import { linear, type LinearOptions } from '../layers/linear.js';
import { rmsNorm } from '../layers/rms-norm.js';
import { silu } from '../layers/activations.js';
import type { GraphContext } from '../weights.js';
import { attentionAllowed } from './attention-mask.js';
import { eagerAttention, type AttentionImplementation, type AttentionInputs } from './eager-attention.js';
import { rotaryTables, rotaryTablesFromAngles, type RotaryTables } from './rotary-embedding.js';

export type { LlmConfig };

export interface LlmGraphOptions {
  /** Attention block; the eager standard-op one by default. */
  attention?: AttentionImplementation;
  /** Spell RMSNorm with standard ops instead of SimplifiedLayerNormalization. */
  decomposedNorm?: boolean;
  /** Passed to every projection (q4 accuracy level, symmetric blocks). */
  linear?: Omit<LinearOptions, 'quantize'>;
  /**
   * Where rotary angles come from. `positions` (default): `position_ids [B, L]` in, angles computed
   * in-graph. `angles`: `rotary_angles [B, L, D/2]` in, computed on the host — one graph then serves
   * 1-D positions and Qwen2.5-VL's multimodal (t/h/w) positions alike.
   */
  rotary?: 'positions' | 'angles';
}

/**
 * The Qwen2.5 decoder body (docs/model-format.md, graph `llm`): inputs_embeds + mask + per-row
 * positions + past K/V in, final-norm hidden states + present K/V out. Weights are read by their
 * checkpoint keys `llm.model.*`.
 */
export function buildLlmGraph(ctx: GraphContext, config: { readonly llm: LlmConfig }, options: LlmGraphOptions = {}): void {
  const llm = config.llm;
  const { builder } = ctx;
  if (llm.numHeads % llm.numKeyValueHeads !== 0) throw new InvalidModelError('llm: num heads must be a multiple of key/value heads');
  if (llm.headDim % 2 !== 0) throw new InvalidModelError('llm: head dim must be even for rotate-half RoPE');

  const cacheShape = ['batch', llm.numKeyValueHeads, 'past_sequence', llm.headDim];
  const inputsEmbeds = builder.input('inputs_embeds', 'float32', ['batch', 'sequence', llm.hiddenSize]);
  const attentionMask = builder.input('attention_mask', 'int64', ['batch', 'total_sequence']);
  const rotaryInput =
    options.rotary === 'angles'
      ? builder.input('rotary_angles', 'float32', ['batch', 'sequence', llm.headDim / 2])
      : builder.input('position_ids', 'int64', ['batch', 'sequence']);
  const past = Array.from({ length: llm.numLayers }, (_, i) => ({
    key: builder.input(`past_key_values.${i}.key`, 'float32', cacheShape),
    value: builder.input(`past_key_values.${i}.value`, 'float32', cacheShape),
  }));

  const rotary = options.rotary === 'angles' ? rotaryTablesFromAngles(ctx, rotaryInput) : rotaryTables(ctx, rotaryInput, llm.headDim, llm.ropeTheta);
  const allowed = attentionAllowed(ctx, attentionMask, inputsEmbeds);
  let hidden = inputsEmbeds;
  for (let i = 0; i < llm.numLayers; i++) {
    const layer = decoderLayer(ctx, llm, i, hidden, { rotary, allowed, pastKey: past[i].key, pastValue: past[i].value }, options);
    hidden = layer.hidden;
    const presentShape = ['batch', llm.numKeyValueHeads, 'total_sequence', llm.headDim];
    builder.output(layer.presentKey, `present.${i}.key`, 'float32', presentShape);
    builder.output(layer.presentValue, `present.${i}.value`, 'float32', presentShape);
  }
  const normed = rmsNorm(ctx, hidden, 'llm.model.norm.weight', llm.rmsNormEps, { decomposed: options.decomposedNorm });
  builder.output(normed, 'last_hidden_state', 'float32', ['batch', 'sequence', llm.hiddenSize]);
}

function decoderLayer(
  ctx: GraphContext,
  llm: LlmConfig,
  index: number,
  input: string,
  shared: { rotary: RotaryTables; allowed: string; pastKey: string; pastValue: string },
  options: LlmGraphOptions,
): { hidden: string; presentKey: string; presentValue: string } {
  const { builder } = ctx;
  const prefix = `llm.model.layers.${index}`;
  const linearOptions = options.linear ?? {};
  const norm = { decomposed: options.decomposedNorm };

  const attentionIn = rmsNorm(ctx, input, `${prefix}.input_layernorm.weight`, llm.rmsNormEps, norm);
  const inputs: AttentionInputs = {
    query: linear(ctx, attentionIn, `${prefix}.self_attn.q_proj.weight`, `${prefix}.self_attn.q_proj.bias`, linearOptions),
    key: linear(ctx, attentionIn, `${prefix}.self_attn.k_proj.weight`, `${prefix}.self_attn.k_proj.bias`, linearOptions),
    value: linear(ctx, attentionIn, `${prefix}.self_attn.v_proj.weight`, `${prefix}.self_attn.v_proj.bias`, linearOptions),
    ...shared,
  };
  const attention = (options.attention ?? eagerAttention)(ctx, inputs, llm);
  const attended = builder.op('Add', [input, linear(ctx, attention.output, `${prefix}.self_attn.o_proj.weight`, undefined, linearOptions)]);

  const mlpIn = rmsNorm(ctx, attended, `${prefix}.post_attention_layernorm.weight`, llm.rmsNormEps, norm);
  const gate = silu(builder, linear(ctx, mlpIn, `${prefix}.mlp.gate_proj.weight`, undefined, linearOptions));
  const up = linear(ctx, mlpIn, `${prefix}.mlp.up_proj.weight`, undefined, linearOptions);
  const down = linear(ctx, builder.op('Mul', [gate, up]), `${prefix}.mlp.down_proj.weight`, undefined, linearOptions);
  return { hidden: builder.op('Add', [attended, down]), presentKey: attention.presentKey, presentValue: attention.presentValue };
}
