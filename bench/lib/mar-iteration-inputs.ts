import { planSteps, type StepPlan } from '../../src/families/unipic1/mar/mask-schedule.js';
import { SeededRandom } from '../../src/core/random/random-source.js';
import type { NoisePurpose } from '../../src/core/random/random-source.js';
import type { ModelConfig } from '../../src/families/unipic1/manifest.js';
import { fillUniform, hashString } from './fast-random.js';
import { float32Bytes, int64Bytes, writeSafetensorsFile, type LazyTensor } from './safetensors-file.js';
import type { SyntheticWeights } from './synthetic-weights.js';

/** The state one MAR iteration starts from, identical for our graphs and the PyTorch oracle. */
export interface MarIterationState {
  readonly plan: StepPlan;
  readonly rows: number;
  readonly grid: number;
  readonly known: Int32Array;
  /** Predicted this step, raster order. */
  readonly predicted: Int32Array;
  readonly latents: Float32Array;
  readonly posEmbed: Float32Array;
  readonly scatter: number[];
  readonly fill: Float32Array;
  readonly decoderPos: Float32Array;
  readonly diffusionPos: Float32Array;
  readonly prefixLength: number;
  readonly attentionMask: number[];
  readonly positionIds: number[];
  readonly past: Float32Array[];
  readonly guidance: number;
  readonly temperature: number;
  noise(count: number, purpose: NoisePurpose): Float32Array;
}

/**
 * Iteration `step` of `iterations` at the model's native grid (512 px: 32×32, tables need no
 * interpolation) with guidance (2 rows): random known latents, a random text prefix cache of
 * `prefixLength` tokens whose unconditional row is right-padded, the mask-token fill.
 */
export function marIterationState(config: ModelConfig, weights: SyntheticWeights, step: number, iterations: number, prefixLength = 24): MarIterationState {
  const { bufferSize: F, tokenDim: C, encoderWidth: W } = config.mar;
  const grid = config.mar.nativeGrid;
  const n = grid * grid;
  const rows = 2;
  const plan = planSteps(n, iterations)[step];
  const order = new SeededRandom(7).order(0, n);
  const maskedBefore = n - plan.known;
  const known = Int32Array.from(order.subarray(maskedBefore)).sort();
  const predicted = Int32Array.from(order.subarray(plan.maskedAfter, maskedBefore)).sort();
  const k = known.length;
  const tokenValues = fillUniform(new Float32Array(n * C), 11, 1);
  const encoderPos = weights.float32('mar.encoder_pos_embed_learned');
  const latents = new Float32Array(rows * k * C);
  const posEmbed = new Float32Array(rows * (F + k) * W);
  const scatter: number[] = [];
  for (let row = 0; row < rows; row++) {
    for (let i = 0; i < k; i++) latents.set(tokenValues.subarray(known[i] * C, (known[i] + 1) * C), (row * k + i) * C);
    posEmbed.set(encoderPos.subarray(0, F * W), row * (F + k) * W);
    for (let i = 0; i < k; i++) posEmbed.set(encoderPos.subarray((F + known[i]) * W, (F + known[i] + 1) * W), (row * (F + k) + F + i) * W);
    for (let i = 0; i < F; i++) scatter.push(i);
    for (let i = 0; i < k; i++) scatter.push(F + known[i]);
  }
  const maskToken = weights.float32('mar.mask_token');
  const fill = new Float32Array(rows * (F + n) * W);
  for (let slot = 0; slot < rows * (F + n); slot++) fill.set(maskToken, slot * W);

  const { numLayers, numKeyValueHeads, headDim } = config.llm;
  const validLengths = [prefixLength, Math.floor(prefixLength / 2)];
  const length = F + k;
  const total = prefixLength + length;
  const attentionMask: number[] = [];
  const positionIds: number[] = [];
  for (let row = 0; row < rows; row++) {
    for (let i = 0; i < prefixLength; i++) attentionMask.push(i < validLengths[row] ? 1 : 0);
    for (let i = 0; i < length; i++) attentionMask.push(1);
    for (let i = 0; i < length; i++) positionIds.push(validLengths[row] + i);
  }
  void total;
  const past = Array.from({ length: 2 * numLayers }, (_, i) => fillUniform(new Float32Array(rows * numKeyValueHeads * prefixLength * headDim), 300 + i, 1));
  return {
    plan,
    rows,
    grid,
    known,
    predicted,
    latents,
    posEmbed,
    scatter,
    fill,
    decoderPos: weights.float32('mar.decoder_pos_embed_learned'),
    diffusionPos: weights.float32('mar.diffusion_pos_embed_learned'),
    prefixLength,
    attentionMask,
    positionIds,
    past,
    guidance: 3,
    temperature: 1,
    noise: (count, purpose) => fillUniform(new Float32Array(count), hashString(JSON.stringify(purpose)), 1),
  };
}

/** The oracle's inputs file (names read by bench/python/mar_iteration.py). */
export function writeOracleInputs(path: string, state: MarIterationState, config: ModelConfig, samplingSteps: number): void {
  const { bufferSize: F, tokenDim: C, encoderWidth: W } = config.mar;
  const { numLayers, numKeyValueHeads, headDim } = config.llm;
  const rows = state.rows;
  const k = state.known.length;
  const n = state.grid * state.grid;
  const m = state.predicted.length;
  const steps = new Float32Array((samplingSteps - 1) * m * C);
  // TokenNoise.steps[j] is the draw used at k = S−1−j.
  for (let j = 0; j < samplingSteps - 1; j++)
    steps.set(state.noise(m * C, { kind: 'diffusion-step', iteration: state.plan.step, step: samplingSteps - 1 - j }), j * m * C);
  const f32 = (name: string, shape: number[], data: Float32Array): LazyTensor => ({ name, dtype: 'float32', shape, bytes: () => float32Bytes(data) });
  const i64 = (name: string, shape: number[], data: ArrayLike<number>): LazyTensor => ({ name, dtype: 'int64', shape, bytes: () => int64Bytes(data) });
  const cache = [rows, numKeyValueHeads, state.prefixLength, headDim];
  writeSafetensorsFile(path, [
    f32('latents', [rows, k, C], state.latents),
    f32('pos_embed', [rows, F + k, W], state.posEmbed),
    i64('scatter_idx', [rows, F + k], state.scatter),
    f32('fill', [rows, F + n, W], state.fill),
    f32('decoder_pos', [F + n, W], state.decoderPos),
    f32('diffusion_pos', [n, W], state.diffusionPos),
    i64('attention_mask', [rows, state.prefixLength + F + k], state.attentionMask),
    i64('position_ids', [rows, F + k], state.positionIds),
    ...Array.from({ length: numLayers }, (_, i) => [f32(`past.${i}.key`, cache, state.past[2 * i]), f32(`past.${i}.value`, cache, state.past[2 * i + 1])]).flat(),
    f32('noise_start', [m, C], state.noise(m * C, { kind: 'diffusion-start', iteration: state.plan.step })),
    f32('noise_steps', [samplingSteps - 1, m, C], steps),
    i64('predicted_positions', [1, m], state.predicted),
  ]);
}
