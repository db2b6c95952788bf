import { describe, expect, it } from 'vitest';
import { quantizeQ4 } from '../../../src/convert/quantize/q4-blocks.js';
import { roundToFloat16 } from '../../../src/convert/quantize/float16.js';
import { randomArray } from '../graphs/layers/support/graph-runner.js';
import { dequantizeQ4 } from './support/q4-reference.js';

describe('q4 block quantisation', () => {
  const N = 5;
  const K = 80; // two full blocks and a half block
  const weight = randomArray(N * K, 31, 1).map((v, i) => (i % 17 === 0 ? v * 8 : v)); // some outliers

  for (const symmetric of [false, true]) {
    const kind = symmetric ? 'symmetric' : 'asymmetric';
    it(`${kind}: layout sizes follow MatMulNBits`, () => {
      const q = quantizeQ4(weight, N, K, { symmetric });
      expect(q.blocksPerRow).toBe(3);
      expect(q.packed.length).toBe(N * 3 * 16);
      expect(q.scales.length).toBe(N * 3);
      if (symmetric) expect(q.zeroPoints).toBeUndefined();
      else expect(q.zeroPoints?.length).toBe(N * 2);
    });

    it(`${kind}: every weight is within half a step of its dequantised value`, () => {
      const q = quantizeQ4(weight, N, K, { symmetric });
      const dequantized = dequantizeQ4(q);
      for (let row = 0; row < N; row++) {
        for (let column = 0; column < K; column++) {
          const scale = Math.abs(q.scales[row * 3 + Math.floor(column / 32)]);
          const error = Math.abs(dequantized[row * K + column] - weight[row * K + column]);
          // Half a step plus float32 rounding of the scale.
          expect(error).toBeLessThanOrEqual(scale / 2 + 1e-6);
        }
      }
    });

    it(`${kind}: zero blocks and exact grid values survive unchanged`, () => {
      const grid = new Float32Array(2 * 64);
      for (let i = 0; i < 32; i++) grid[64 + i] = (i % 16) - 8; // codes −8..7, scale 1
      const dequantized = dequantizeQ4(quantizeQ4(grid, 2, 64, { symmetric }));
      expect(Array.from(dequantized)).toEqual(Array.from(grid));
    });
  }

  it('asymmetric scale is (max − min)/15 with 0 inside the range', () => {
    const row = new Float32Array(32).map((_, i) => 1 + i / 31); // all positive: range [0, 2]
    const q = quantizeQ4(row, 1, 32);
    expect(q.scales[0]).toBeCloseTo(2 / 15, 7);
    expect(q.zeroPoints?.[0]).toBe(0);
  });

  it('symmetric maps the largest magnitude to code 0 (value −8·scale)', () => {
    const row = new Float32Array(32).map((_, i) => (i === 5 ? -4 : i / 32));
    const q = quantizeQ4(row, 1, 32, { symmetric: true });
    expect(q.scales[0]).toBe(0.5);
    expect(q.packed[2] & 0x0f).toBe(8); // element 4 = 4/32 → round(0.25) + 8 = 8
    expect(q.packed[2] >> 4).toBe(0); // element 5 = −4 → code 0
  });

  it('float16 scales are half-rounded values and codes are chosen against them', () => {
    const q = quantizeQ4(weight, N, K, { scaleType: 'float16' });
    for (const s of q.scales) expect(s).toBe(roundToFloat16(s));
    const dequantized = dequantizeQ4(q);
    for (let i = 0; i < weight.length; i++) {
      const scale = q.scales[Math.floor(i / K) * 3 + Math.floor((i % K) / 32)];
      expect(Math.abs(dequantized[i] - weight[i])).toBeLessThanOrEqual(scale / 2 + 1e-6);
    }
  });

  it('rejects a weight of the wrong size', () => {
    expect(() => quantizeQ4(new Float32Array(10), 2, 6)).toThrow(/expected 2×6/);
  });
});
