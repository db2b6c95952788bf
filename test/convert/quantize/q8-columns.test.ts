import { describe, expect, it } from 'vitest';
import { quantizeQ8 } from '../../../src/convert/quantize/q8-columns.js';
import { randomArray } from '../graphs/layers/support/graph-runner.js';

describe('q8 per-channel weights (DynamicQuantizeMatMul layout)', () => {
  it('codes · scale give back each weight within half a step, transposed to [K, N]', () => {
    const n = 5;
    const k = 9;
    const weight = randomArray(n * k, 11, 3);
    const q = quantizeQ8(weight, n, k);
    for (let row = 0; row < n; row++) {
      let largest = 0;
      for (let col = 0; col < k; col++) largest = Math.max(largest, Math.abs(weight[row * k + col]));
      expect(q.scales[row]).toBeCloseTo(largest / 127, 6);
      for (let col = 0; col < k; col++) {
        const code = q.codes[col * n + row];
        expect(Math.abs(code)).toBeLessThanOrEqual(127);
        expect(Math.abs(code * q.scales[row] - weight[row * k + col])).toBeLessThanOrEqual(q.scales[row] / 2 + 1e-7);
      }
    }
  });

  it('the largest magnitude of a channel maps to ±127, an all-zero channel to codes 0 with scale 1', () => {
    const weight = Float32Array.from([0, 0, 0, -2, 1, 0.5]);
    const q = quantizeQ8(weight, 2, 3);
    expect(Array.from(q.scales)).toEqual([1, Math.fround(2 / 127)]);
    expect(Array.from(q.codes)).toEqual([0, -127, 0, 64, 0, 32]);
  });

  it('refuses a wrong size or a non-finite weight', () => {
    expect(() => quantizeQ8(new Float32Array(5), 2, 3)).toThrow(/expected 2×3/);
    expect(() => quantizeQ8(Float32Array.from([1, Number.NaN]), 1, 2)).toThrow(/non-finite/);
  });
});
