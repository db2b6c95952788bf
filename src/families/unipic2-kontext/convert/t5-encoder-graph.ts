import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { geluTanh } from '../../../convert/graphs/layers/activations.js';
import { attendHeads, mergeHeads, splitHeads } from '../../../convert/graphs/layers/attention.js';
import { embeddingLookup } from '../../../convert/graphs/layers/embedding.js';
import { linear } from '../../../convert/graphs/layers/linear.js';
import { rmsNorm } from '../../../convert/graphs/layers/rms-norm.js';
import type { GraphContext } from '../../../convert/graphs/weights.js';

export interface T5EncoderConfig {
  readonly dModel: number;
  readonly dKv: number;
  readonly dFf: number;
  readonly heads: number;
  readonly layers: number;
  readonly buckets: number;
  readonly maxDistance: number;
  readonly layerNormEps: number;
  /** Longest sequence the graph accepts (the relative-bucket table is precomputed up to it). */
  readonly maxLength: number;
}

const f = Math.fround;

/**
 * T5's bidirectional relative-position bucket of `memory − query` (HF `_relative_position_bucket`),
 * with the logarithm branch rounded in float32 as torch computes it, then truncated.
 */
export function relativePositionBucket(relative: number, buckets: number, maxDistance: number): number {
  const half = buckets / 2;
  let bucket = relative > 0 ? half : 0;
  const distance = Math.abs(relative);
  const maxExact = half / 2;
  if (distance < maxExact) return bucket + distance;
  const scaled = f(f(f(Math.log(f(distance / maxExact))) / f(Math.log(maxDistance / maxExact))) * (half - maxExact));
  bucket += Math.min(maxExact + Math.trunc(scaled), half - 1);
  return bucket;
}

/**
 * `t5_encoder` graph (HF `T5EncoderModel`): `input_ids [B, S]` →
 * `last_hidden_state [B, S, d_model]`. RMS layer norms, attention without 1/√d scaling and with
 * the layer-0 relative position bias shared by every layer, no padding mask (the pipeline passes
 * none), gated-GELU(tanh) feed-forward. The feed-forward output projection `wo` keeps float32
 * activations in every dtype: T5 overflows float16 there (HF keeps `wo` in fp32 too).
 */
export function buildT5EncoderGraph(ctx: GraphContext, config: T5EncoderConfig, prefix: string): void {
  const { builder, weights } = ctx;
  const { heads, dKv, layerNormEps: eps } = config;
  const ids = builder.input('input_ids', 'int64', ['batch', 'sequence']);
  const length = builder.op('Slice', [builder.op('Shape', [ids]), builder.constInt64([1]), builder.constInt64([2])]);
  const table = weights.has(`${prefix}shared.weight`) ? `${prefix}shared.weight` : `${prefix}encoder.embed_tokens.weight`;
  let x = embeddingLookup(ctx, ids, table);

  const L = config.maxLength;
  const buckets = new Int32Array(L * L);
  for (let q = 0; q < L; q++) for (let k = 0; k < L; k++) buckets[q * L + k] = relativePositionBucket(k - q, config.buckets, config.maxDistance);
  const bucketTable = builder.initializer(`${prefix}relative_buckets`, 'int32', [L, L], new Uint8Array(buckets.buffer));
  const ends = builder.op('Concat', [length, length], { axis: 0 });
  const bucketIds = builder.op('Slice', [bucketTable, builder.constInt64([0, 0]), ends, builder.constInt64([0, 1])]);
  const biasName = `${prefix}encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight`;
  const [bucketCount, biasHeads] = weights.shape(biasName);
  if (bucketCount !== config.buckets || biasHeads !== heads)
    throw new InvalidModelError(`${biasName} is [${bucketCount}, ${biasHeads}], expected [${config.buckets}, ${heads}]`);
  const biasRows = builder.op('Gather', [builder.floatInitializer(biasName, [bucketCount, heads], weights.float32(biasName)), bucketIds], { axis: 0 });
  const positionBias = builder.op('Unsqueeze', [builder.op('Transpose', [biasRows], { perm: [2, 0, 1] }), builder.constInt64([0])]);

  for (let i = 0; i < config.layers; i++) {
    const block = `${prefix}encoder.block.${i}.layer.`;
    const normed = rmsNorm(ctx, x, `${block}0.layer_norm.weight`, eps);
    const project = (name: string): string => splitHeads(builder, linear(ctx, normed, `${block}0.SelfAttention.${name}.weight`), heads, dKv);
    const attended = attendHeads(builder, project('q'), project('k'), project('v'), dKv, { scale: 1, bias: positionBias });
    x = builder.op('Add', [x, linear(ctx, mergeHeads(builder, attended, heads, dKv), `${block}0.SelfAttention.o.weight`)]);
    const normed2 = rmsNorm(ctx, x, `${block}1.layer_norm.weight`, eps);
    const gate = geluTanh(builder, linear(ctx, normed2, `${block}1.DenseReluDense.wi_0.weight`));
    const hidden = builder.op('Mul', [gate, linear(ctx, normed2, `${block}1.DenseReluDense.wi_1.weight`)]);
    x = builder.op('Add', [x, linear(ctx, hidden, `${block}1.DenseReluDense.wo.weight`, undefined, { keepFloat32: true })]);
  }
  x = rmsNorm(ctx, x, `${prefix}encoder.final_layer_norm.weight`, eps);
  builder.output(x, 'last_hidden_state', 'float32', ['batch', 'sequence', config.dModel]);
}
