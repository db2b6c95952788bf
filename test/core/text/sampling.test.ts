import { describe, expect, it } from 'vitest';
import { InvalidInputError, NumericError } from '../../../src/errors/index.js';
import { applyRepetitionPenalty, applyTemperature, applyTopK, applyTopP } from '../../../src/core/text/logits-processors.js';
import { DEFAULT_TEXT_SAMPLING, textSamplingSchema, type TextSamplingOptions } from '../../../src/core/text/sampling-options.js';
import { argmax, processLogits, sampleFromScores, selectToken, TokenSelector } from '../../../src/core/text/sampling.js';

// Expected values are worked out by hand from the transformers 4.45 processor definitions
// (logits_process.py); float32 results are compared exactly where the arithmetic is exact in
// float32, otherwise with the tolerance written next to the comparison.

const greedy: TextSamplingOptions = { doSample: false, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1 };
const sampling: TextSamplingOptions = { ...greedy, doSample: true };
const logOf = (probabilities: number[]) => Float32Array.from(probabilities, Math.log);
const kept = (scores: Float32Array) => [...scores.keys()].filter((index) => scores[index]! > -Infinity);

describe('argmax', () => {
  it('picks the first of equal maxima, like torch.argmax', () => {
    expect(argmax(Float32Array.of(1, 3, 3, 2))).toBe(1);
    expect(argmax(Float32Array.of(-Infinity, -Infinity))).toBe(0);
    expect(argmax(Float32Array.of(0, -1, 5))).toBe(2);
  });
});

describe('applyRepetitionPenalty', () => {
  it('divides positive and multiplies negative logits of seen ids, once per distinct id', () => {
    const scores = Float32Array.of(2, -2, 0, 1, 3);
    applyRepetitionPenalty(scores, [0, 1, 1, 2, 0], 2);
    expect([...scores]).toEqual([1, -4, 0, 1, 3]);
  });

  it('rounds the penalty to float32 like torch (1.1 → 1.10000002384)', () => {
    const scores = Float32Array.of(1.1);
    applyRepetitionPenalty(scores, [0], 1.1);
    expect(scores[0]).toBe(Math.fround(Math.fround(1.1) / Math.fround(1.1)));
    expect(scores[0]).toBe(1);
  });

  it('ignores ids outside the row', () => {
    const scores = Float32Array.of(1, 2);
    applyRepetitionPenalty(scores, [5, -1], 2);
    expect([...scores]).toEqual([1, 2]);
  });
});

describe('applyTemperature, applyTopK, applyTopP', () => {
  it('divides by the temperature', () => {
    const scores = Float32Array.of(1, 2, -3);
    applyTemperature(scores, 0.5);
    expect([...scores]).toEqual([2, 4, -6]);
  });

  it('keeps scores ≥ the k-th largest, ties at the boundary included', () => {
    const a = Float32Array.of(1, 5, 3, 5, 2);
    applyTopK(a, 2);
    expect(kept(a)).toEqual([1, 3]);
    const b = Float32Array.of(1, 5, 3, 5, 2);
    applyTopK(b, 3);
    expect(kept(b)).toEqual([1, 2, 3]);
    const c = Float32Array.of(4, 4, 4, 1);
    applyTopK(c, 2);
    expect(kept(c)).toEqual([0, 1, 2]);
    const d = Float32Array.of(1, 2);
    applyTopK(d, 10);
    expect(kept(d)).toEqual([0, 1]);
  });

  it('removes the least likely tokens whose cumulative probability is ≤ 1 − p', () => {
    // probabilities 0.1 0.2 0.3 0.4 → ascending cumulative 0.1 0.3 0.6 1.0
    const cases: Array<[number, number[]]> = [
      [0.5, [2, 3]], // limit 0.5 removes 0.1 and 0.3
      [0.65, [2, 3]], // limit 0.35
      [0.75, [1, 2, 3]], // limit 0.25 removes only the 0.1 token
      [0.95, [0, 1, 2, 3]], // limit 0.05 removes nothing
      [0.01, [3]], // the most likely token always stays
    ];
    for (const [topP, expected] of cases) {
      const scores = logOf([0.1, 0.2, 0.3, 0.4]);
      applyTopP(scores, topP);
      expect(kept(scores), `top_p ${topP}`).toEqual(expected);
    }
  });

  it('orders equal scores so the lower id is kept first', () => {
    const scores = Float32Array.of(0, 0, 0, 0);
    applyTopP(scores, 0.5);
    expect(kept(scores)).toEqual([0, 1]);
  });
});

describe('processLogits order (penalty → temperature → top-k → top-p)', () => {
  it('applies top-p after top-k, on the renormalised survivors', () => {
    // p = [0.1, 0.1, 0.3, 0.5], k = 2, top_p = 0.55 (limit 0.45).
    // top-k first: {0.3, 0.5} → {0.375, 0.625}; 0.375 ≤ 0.45 is removed → only id 3.
    // (top-p first would keep ids 2 and 3.)
    const scores = processLogits(logOf([0.1, 0.1, 0.3, 0.5]), { ...sampling, topK: 2, topP: 0.55 }, []);
    expect(kept(scores)).toEqual([3]);
  });

  it('applies top-p after temperature', () => {
    // p = [1/3, 2/3], top_p 0.6 (limit 0.4). At T = 2 the probabilities are 1/(1+√2) ≈ 0.414 and
    // 0.586, so nothing is removed; at T = 1 id 0 (0.333 ≤ 0.4) would be.
    const logits = Float32Array.of(0, Math.log(2));
    expect(kept(processLogits(logits, { ...sampling, temperature: 2, topP: 0.6 }, []))).toEqual([0, 1]);
    expect(kept(processLogits(logits, { ...sampling, temperature: 1, topP: 0.6 }, []))).toEqual([1]);
  });

  it('applies the repetition penalty in greedy mode and ignores the sampling warpers there', () => {
    const logits = Float32Array.of(2, 1.5, -1);
    // 2 / 1.5 = 1.333 < 1.5, so the penalty moves greedy from id 0 to id 1.
    expect(selectToken(logits, { ...greedy, repetitionPenalty: 1.5 }, { seenIds: [0] })).toBe(1);
    expect(selectToken(logits, { ...greedy, repetitionPenalty: 1 }, { seenIds: [0] })).toBe(0);
    const processed = processLogits(logits, { ...greedy, temperature: 0.5, topK: 1, topP: 0.1 }, []);
    expect([...processed]).toEqual([2, 1.5, -1]);
    // The input row is left alone.
    expect([...logits]).toEqual([2, 1.5, -1]);
  });

  it('reports NaN and +∞ logits', () => {
    expect(() => processLogits(Float32Array.of(0, Number.NaN), greedy, [])).toThrow(NumericError);
    expect(() => processLogits(Float32Array.of(Infinity, 0), greedy, [])).toThrow(NumericError);
  });
});

describe('sampleFromScores', () => {
  const scores = logOf([0.1, 0.2, 0.3, 0.4]);

  it('inverts the cumulative distribution with one uniform draw', () => {
    // Cumulative 0.1 0.3 0.6 1.0; float64 rounding of log/exp is ~1e-16, far from these draws.
    const expected: Array<[number, number]> = [
      [0, 0],
      [0.05, 0],
      [0.15, 1],
      [0.35, 2],
      [0.65, 3],
      [0.999999, 3],
    ];
    for (const [draw, id] of expected) expect(sampleFromScores(scores, () => draw)).toBe(id);
  });

  it('never picks a filtered token', () => {
    const filtered = Float32Array.of(-Infinity, 0, -Infinity, 0);
    expect(sampleFromScores(filtered, () => 0)).toBe(1);
    expect(sampleFromScores(filtered, () => 0.9999)).toBe(3);
  });

  it('matches the distribution over many seeded draws', () => {
    // 20 000 draws: standard error ≤ 0.0035, tolerance 0.015 is > 4 standard errors.
    let state = 12345;
    const random = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
    const counts = [0, 0, 0, 0];
    for (let draw = 0; draw < 20000; draw++) counts[sampleFromScores(scores, random)]!++;
    counts.forEach((count, id) => expect(Math.abs(count / 20000 - [0.1, 0.2, 0.3, 0.4][id]!)).toBeLessThan(0.015));
  });

  it('rejects draws outside [0, 1) and rows with nothing left', () => {
    expect(() => sampleFromScores(scores, () => 1)).toThrow(InvalidInputError);
    expect(() => sampleFromScores(scores, () => -0.1)).toThrow(InvalidInputError);
    expect(() => sampleFromScores(Float32Array.of(-Infinity), () => 0)).toThrow(NumericError);
  });
});

describe('TokenSelector', () => {
  it('penalises only the tokens it generated (HF generate from inputs_embeds starts with empty input_ids)', () => {
    const selector = new TokenSelector({ ...greedy, repetitionPenalty: 2 });
    const logits = Float32Array.of(3, 2.5, 1);
    expect(selector.select(logits)).toBe(0); // nothing seen yet: no penalty
    expect(selector.select(logits)).toBe(1); // [1.5, 2.5, 1]
    expect(selector.select(logits)).toBe(0); // [1.5, 1.25, 1]
    expect(selector.select(logits)).toBe(0); // id 0 twice is still penalised once: [1.5, 1.25, 1]
    expect(selector.generated).toEqual([0, 1, 0, 0]);
  });

  it('samples with the supplied random source and needs one', () => {
    const selector = new TokenSelector({ ...sampling, repetitionPenalty: 1 }, () => 0.65);
    expect(selector.select(logOf([0.1, 0.2, 0.3, 0.4]))).toBe(3);
    expect(() => new TokenSelector(sampling)).toThrow(InvalidInputError);
  });
});

describe('textSamplingSchema', () => {
  it("defaults to greedy plus Qwen2.5-1.5B-Instruct's generation_config values", () => {
    expect(DEFAULT_TEXT_SAMPLING).toEqual({ doSample: false, temperature: 0.7, topK: 20, topP: 0.8, repetitionPenalty: 1.1 });
  });

  it('rejects out-of-range values and unknown keys', () => {
    expect(textSamplingSchema.safeParse({ temperature: 0 }).success).toBe(false);
    expect(textSamplingSchema.safeParse({ topP: 0 }).success).toBe(false);
    expect(textSamplingSchema.safeParse({ topP: 1.5 }).success).toBe(false);
    expect(textSamplingSchema.safeParse({ topK: 1.5 }).success).toBe(false);
    expect(textSamplingSchema.safeParse({ repetitionPenalty: 0 }).success).toBe(false);
    expect(textSamplingSchema.safeParse({ seed: 1 }).success).toBe(false);
    expect(textSamplingSchema.parse({ doSample: true, topK: 0, topP: 1 })).toMatchObject({ topK: 0, topP: 1 });
  });
});
