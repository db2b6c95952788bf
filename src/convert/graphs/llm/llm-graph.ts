import { LLM_ANGLES_GRAPHS, LLM_GRAPHS } from '../../../spec/llm-graphs.js';
import { LLM_IN_PLACE_GRAPHS, LLM_IN_PLACE_KEYS_TRANSPOSED_GRAPHS } from '../../../spec/llm-in-place-graph.js';
import type { InPlaceKvLayout } from '../../../spec/manifest.js';
import { contractInput, contractOutput } from '../../onnx/contract-io.js';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import type { LlmConfig } from '../../../spec/llm-config.js';
import { linear, type LinearOptions } from '../layers/linear.js';
import { rmsNorm } from '../layers/rms-norm.js';
import { silu } from '../layers/activations.js';
import type { GraphContext } from '../weights.js';
import { attentionAllowed, scalarDim } from './attention-mask.js';
import { eagerAttention, type AttentionImplementation, type AttentionInputs } from './eager-attention.js';
import { inPlaceAttention, inPlaceMasks } from './in-place-attention.js';
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
  /**
   * `concat` (default): past in, past ++ new out (`LLM_GRAPHS.llm`). `in-place`: a pre-allocated
   * cache read in place, only the new keys/values out (`LLM_IN_PLACE_GRAPHS.llm`), so a decode step
   * costs the same at 4,000 cached positions as at 40; `attention` is then ignored.
   */
  kvCache?: 'concat' | 'in-place';
  /**
   * The in-place buffers' layout (the manifest's `kvCacheLayout`): `values-transposed` (default),
   * or `keys-transposed`, the first in-place graphs, kept for old folders and the benchmark.
   */
  inPlaceLayout?: InPlaceKvLayout;
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

  const inPlace = options.kvCache === 'in-place';
  const layout = options.inPlaceLayout ?? 'values-transposed';
  const inPlaceSpec = layout === 'values-transposed' ? LLM_IN_PLACE_GRAPHS.llm : LLM_IN_PLACE_KEYS_TRANSPOSED_GRAPHS.llm;
  // The contracts name their inputs alike; only the cache's shapes and the per-layer outputs differ.
  const spec = inPlace ? inPlaceSpec : LLM_GRAPHS.llm;
  const sizes = { hidden: llm.hiddenSize, heads_kv: llm.numKeyValueHeads, head_dim: llm.headDim };
  const inputsEmbeds = contractInput(builder, spec, 'inputs_embeds', sizes);
  const attentionMask = contractInput(builder, spec, 'attention_mask', sizes);
  // Qwen2-VL-style callers feed the rotary angles themselves (multimodal RoPE); UniPic-1 feeds positions.
  const rotaryInput =
    options.rotary === 'angles'
      ? contractInput(builder, LLM_ANGLES_GRAPHS.llm, 'rotary_angles', { half_head_dim: llm.headDim / 2 })
      : contractInput(builder, spec, 'position_ids', sizes);
  const past = Array.from({ length: llm.numLayers }, (_, i) => ({
    key: contractInput(builder, spec, 'past_key_values.{i}.key', sizes, i),
    value: contractInput(builder, spec, 'past_key_values.{i}.value', sizes, i),
  }));

  const rotary = options.rotary === 'angles' ? rotaryTablesFromAngles(ctx, rotaryInput) : rotaryTables(ctx, rotaryInput, llm.headDim, llm.ropeTheta);
  const capacity = () => scalarDim(ctx, past[0].key, layout === 'values-transposed' ? 2 : 3);
  const masks = inPlace ? inPlaceMasks(ctx, attentionMask, inputsEmbeds, capacity()) : undefined;
  const allowed = masks ? masks.fresh : attentionAllowed(ctx, attentionMask, inputsEmbeds);
  const layerOptions = masks ? { ...options, attention: inPlaceAttention(masks, layout) } : options;
  let hidden = inputsEmbeds;
  for (let i = 0; i < llm.numLayers; i++) {
    const layer = builder.scopedByWeight(`llm.model.layers.${i}`, () =>
      decoderLayer(ctx, llm, i, hidden, { rotary, allowed, pastKey: past[i].key, pastValue: past[i].value }, layerOptions),
    );
    hidden = layer.hidden;
    if (inPlace) {
      contractOutput(builder, inPlaceSpec, layer.presentKey, 'new_key_values.{i}.key', sizes, i);
      contractOutput(builder, inPlaceSpec, layer.presentValue, 'new_key_values.{i}.value', sizes, i);
    } else {
      contractOutput(builder, LLM_GRAPHS.llm, layer.presentKey, 'present.{i}.key', sizes, i);
      contractOutput(builder, LLM_GRAPHS.llm, layer.presentValue, 'present.{i}.value', sizes, i);
    }
  }
  const normed = rmsNorm(ctx, hidden, 'llm.model.norm.weight', llm.rmsNormEps, { decomposed: options.decomposedNorm });
  contractOutput(builder, spec, normed, 'last_hidden_state', sizes);
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
