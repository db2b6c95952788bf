import { InvalidInputError, NumericError } from '../../errors/index.js';
import { applyRepetitionPenalty, applyTemperature, applyTopK, applyTopP } from './logits-processors.js';
import type { TextSamplingOptions } from './sampling-options.js';

/** A uniform draw in [0, 1); a seeded source makes sampling reproducible. */
export type UniformRandom = () => number;

function checkFinite(logits: ArrayLike<number>): void {
  for (let index = 0; index < logits.length; index++) {
    const value = logits[index]!;
    if (Number.isNaN(value) || value === Infinity) {
      throw new NumericError(`logit ${index} is ${value}`, { details: { index } });
    }
  }
}

/** Index of the largest value; the first one wins ties, like `torch.argmax`. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let index = 1; index < values.length; index++) {
    if (values[index]! > values[best]!) best = index;
  }
  return best;
}

/**
 * Hugging Face's processing order for one row of logits: repetition penalty, then (sampling only)
 * temperature, top-k, top-p. Returns a new array; `logits` is left alone.
 */
export function processLogits(logits: Float32Array, options: TextSamplingOptions, seenIds: Iterable<number>): Float32Array {
  checkFinite(logits);
  const scores = new Float32Array(logits);
  applyRepetitionPenalty(scores, seenIds, options.repetitionPenalty);
  if (options.doSample) {
    applyTemperature(scores, options.temperature);
    if (options.topK !== 0) applyTopK(scores, options.topK);
    applyTopP(scores, options.topP);
  }
  return scores;
}

/**
 * Draws an index from `softmax(scores)` by inverting the cumulative distribution over ids in
 * ascending order with one uniform draw (float64 probabilities).
 */
export function sampleFromScores(scores: Float32Array, random: UniformRandom): number {
  let maximum = -Infinity;
  for (const value of scores) if (value > maximum) maximum = value;
  if (maximum === -Infinity) throw new NumericError('every token was filtered out (all scores are −∞)');
  let total = 0;
  for (const value of scores) total += Math.exp(value - maximum);
  const draw = random();
  if (!(draw >= 0 && draw < 1)) {
    throw new InvalidInputError(`random() must return a number in [0, 1), got ${draw}`);
  }
  const target = draw * total;
  let cumulative = 0;
  let last = -1;
  for (let index = 0; index < scores.length; index++) {
    const weight = Math.exp(scores[index]! - maximum);
    if (weight === 0) continue;
    cumulative += weight;
    last = index;
    if (target < cumulative) return index;
  }
  // Only reachable through rounding when the draw is within an ulp of 1.
  return last;
}

/** Picks the next token from one row of logits. */
export function selectToken(
  logits: Float32Array,
  options: TextSamplingOptions,
  context: { readonly seenIds: Iterable<number>; readonly random?: UniformRandom },
): number {
  const scores = processLogits(logits, options, context.seenIds);
  if (!options.doSample) return argmax(scores);
  if (context.random === undefined) throw new InvalidInputError('sampling needs a random source');
  return sampleFromScores(scores, context.random);
}

/**
 * Token selection over one generation: remembers the ids it picked, which is exactly what the
 * repetition penalty sees when Hugging Face generates from `inputs_embeds` (its `input_ids` start
 * empty, so prompt tokens are never penalised).
 */
export class TokenSelector {
  private readonly seen = new Set<number>();
  private readonly picked: number[] = [];

  constructor(
    private readonly options: TextSamplingOptions,
    private readonly random?: UniformRandom,
  ) {
    if (options.doSample && random === undefined) throw new InvalidInputError('sampling needs a random source');
  }

  /** Ids chosen so far, in order. */
  get generated(): readonly number[] {
    return this.picked;
  }

  select(logits: Float32Array): number {
    const id = selectToken(logits, this.options, { seenIds: this.seen, random: this.random });
    this.seen.add(id);
    this.picked.push(id);
    return id;
  }
}
