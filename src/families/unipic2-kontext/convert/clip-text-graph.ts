import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { geluErf, quickGelu } from '../../../convert/graphs/layers/activations.js';
import { attendHeads, mergeHeads, splitHeads } from '../../../convert/graphs/layers/attention.js';
import { embeddingLookup } from '../../../convert/graphs/layers/embedding.js';
import { layerNorm } from '../../../convert/graphs/layers/layer-norm.js';
import { linear } from '../../../convert/graphs/layers/linear.js';
import type { GraphContext } from '../../../convert/graphs/weights.js';

export interface ClipTextConfig {
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly layers: number;
  readonly heads: number;
  readonly maxPositions: number;
  readonly projectionDim: number;
  readonly activation: 'quick_gelu' | 'gelu';
  readonly layerNormEps: number;
  /**
   * transformers picks the pooled (EOS) position by `argmax(input_ids)` when the config's
   * `eos_token_id` is the legacy 2, else by the first id equal to it.
   */
  readonly eosTokenId: number;
}

// torch.finfo(float32).min: what transformers fills masked scores with.
const MASKED = -3.4028234663852886e38;

/**
 * `clip_l` / `clip_g` graphs (HF `CLIPTextModelWithProjection`): `input_ids [B, S]` →
 * `hidden_states [B, S, hidden]` = hidden_states[−2] (the output of the penultimate layer, no
 * final LayerNorm) and `pooled [B, projection]` = text_projection(final_layer_norm(last)[EOS]).
 * Causal attention, no padding mask (the pipeline passes none). `prefix` is the checkpoint
 * folder's key prefix (`text_encoder.` or `text_encoder_2.`).
 */
export function buildClipTextGraph(ctx: GraphContext, config: ClipTextConfig, prefix: string): void {
  const { builder, weights } = ctx;
  const { hiddenSize: width, heads } = config;
  if (width % heads !== 0) throw new InvalidModelError(`CLIP width ${width} is not divisible by ${heads} heads`);
  const headDim = width / heads;
  const model = `${prefix}text_model.`;
  const ids = builder.input('input_ids', 'int64', ['batch', 'sequence']);
  const length = builder.op('Slice', [builder.op('Shape', [ids]), builder.constInt64([1]), builder.constInt64([2])]);

  const positionName = `${model}embeddings.position_embedding.weight`;
  const positionTable = builder.floatInitializer(positionName, [...weights.shape(positionName)], weights.float32(positionName));
  const positions = builder.op('Slice', [positionTable, builder.constInt64([0]), length, builder.constInt64([0])]);
  let x = builder.op('Add', [embeddingLookup(ctx, ids, `${model}embeddings.token_embedding.weight`), positions]);

  const P = config.maxPositions;
  const mask = new Float32Array(P * P);
  for (let i = 0; i < P; i++) for (let j = i + 1; j < P; j++) mask[i * P + j] = MASKED;
  const fullMask = builder.floatInitializer(`${prefix}causal_mask`, [1, 1, P, P], mask);
  const zeros = builder.constInt64([0, 0]);
  const ends = builder.op('Concat', [length, length], { axis: 0 });
  const causal = builder.op('Slice', [fullMask, zeros, ends, builder.constInt64([2, 3])]);

  const activate = config.activation === 'quick_gelu' ? quickGelu : geluErf;
  let penultimate = x;
  for (let i = 0; i < config.layers; i++) {
    const layer = `${model}encoder.layers.${i}.`;
    const normed = layerNorm(ctx, x, width, config.layerNormEps, `${layer}layer_norm1.weight`, `${layer}layer_norm1.bias`);
    const project = (name: string): string =>
      splitHeads(builder, linear(ctx, normed, `${layer}self_attn.${name}.weight`, `${layer}self_attn.${name}.bias`), heads, headDim);
    const attended = attendHeads(builder, project('q_proj'), project('k_proj'), project('v_proj'), headDim, { bias: causal });
    x = builder.op('Add', [x, linear(ctx, mergeHeads(builder, attended, heads, headDim), `${layer}self_attn.out_proj.weight`, `${layer}self_attn.out_proj.bias`)]);
    const normed2 = layerNorm(ctx, x, width, config.layerNormEps, `${layer}layer_norm2.weight`, `${layer}layer_norm2.bias`);
    const hidden = activate(builder, linear(ctx, normed2, `${layer}mlp.fc1.weight`, `${layer}mlp.fc1.bias`));
    x = builder.op('Add', [x, linear(ctx, hidden, `${layer}mlp.fc2.weight`, `${layer}mlp.fc2.bias`)]);
    if (i === config.layers - 2) penultimate = x;
  }
  const last = layerNorm(ctx, x, width, config.layerNormEps, `${model}final_layer_norm.weight`, `${model}final_layer_norm.bias`);
  const idsAsFloat = builder.op('Cast', [ids], { to: 1 });
  const score = config.eosTokenId === 2 ? idsAsFloat : builder.op('Cast', [builder.op('Equal', [ids, builder.constInt64([config.eosTokenId], [])])], { to: 1 });
  const eos = builder.op('ArgMax', [score], { axis: 1, keepdims: 1, select_last_index: 0 });
  const pooled = builder.op('GatherND', [last, eos], { batch_dims: 1 });
  const projected = linear(ctx, pooled, `${prefix}text_projection.weight`);
  builder.output(penultimate, 'hidden_states', 'float32', ['batch', 'sequence', width]);
  builder.output(projected, 'pooled', 'float32', ['batch', config.projectionDim]);
}
