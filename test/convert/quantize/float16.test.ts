import { describe, expect, it } from 'vitest';
import { float16BitsToFloat32, float32ToFloat16Bits, roundToFloat16, toFloat16Array } from '../../../src/convert/quantize/float16.js';
import { randomArray } from '../graphs/layers/support/graph-runner.js';

/** Every finite non-negative half value, ascending, computed from the format definition. */
const HALF_VALUES: number[] = [];
for (let exponent = 0; exponent < 31; exponent++) {
  for (let mantissa = 0; mantissa < 1024; mantissa++) {
    HALF_VALUES.push(exponent === 0 ? mantissa * 2 ** -24 : (1 + mantissa / 1024) * 2 ** (exponent - 15));
  }
}
const HALF_MAX = 65504;

/** Oracle: nearest half by search over the table, ties to the even bit pattern, overflow to Inf. */
function nearestHalfBits(value: number): number {
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  // Values at or beyond max + half an ulp (65520) round to infinity under IEEE RNE.
  if (a >= 65520) return sign | 0x7c00;
  let low = 0;
  let high = HALF_VALUES.length - 1;
  while (high - low > 1) {
    const mid = (low + high) >> 1;
    if (HALF_VALUES[mid] <= a) low = mid;
    else high = mid;
  }
  if (a >= HALF_MAX) return sign | (HALF_VALUES.length - 1);
  const below = a - HALF_VALUES[low];
  const above = HALF_VALUES[high] - a;
  const index = below < above ? low : above < below ? high : low % 2 === 0 ? low : high;
  return sign | index;
}

describe('float16 conversion', () => {
  it('matches the nearest-half oracle on random values across the whole range', () => {
    const values = [
      ...randomArray(4000, 1, 1),
      ...randomArray(4000, 2, 70000),
      ...Array.from(randomArray(4000, 3, 1), (v) => v * 2 ** -14), // subnormal territory
      ...Array.from(randomArray(2000, 4, 1), (v) => v * 2 ** -25),
    ].map(Math.fround);
    for (const v of values) expect(float32ToFloat16Bits(v), `value ${v}`).toBe(nearestHalfBits(v));
  });

  it('rounds ties to even, including at the subnormal boundary and overflow', () => {
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: even mantissa (1) wins.
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3·2^-11 is halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even).
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(float32ToFloat16Bits(2 ** -25)).toBe(0x0000); // halfway to the smallest subnormal: even is 0
    expect(float32ToFloat16Bits(3 * 2 ** -25)).toBe(0x0002);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65519.996)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00);
    expect(float32ToFloat16Bits(2047.5 * 2 ** -24 * 2 ** 0)).toBe(nearestHalfBits(2047.5 * 2 ** -24)); // largest subnormal carry
  });

  it('keeps signs, infinities, zeros and NaN', () => {
    expect(float32ToFloat16Bits(-0)).toBe(0x8000);
    expect(float32ToFloat16Bits(-1)).toBe(0xbc00);
    expect(float32ToFloat16Bits(Infinity)).toBe(0x7c00);
    expect(float32ToFloat16Bits(-Infinity)).toBe(0xfc00);
    const nan = float32ToFloat16Bits(Number.NaN);
    expect((nan & 0x7c00) === 0x7c00 && (nan & 0x3ff) !== 0).toBe(true);
  });

  it('decodes every half pattern exactly and re-encodes it to itself', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = float16BitsToFloat32(bits);
      if (Number.isNaN(value)) continue;
      const magnitude = bits & 0x7fff;
      if (magnitude < 0x7c00) expect(Math.abs(value)).toBe(HALF_VALUES[magnitude]);
      expect(float32ToFloat16Bits(value)).toBe(bits);
    }
  });

  it('array and rounding helpers agree with the scalar conversion', () => {
    const values = randomArray(100, 9, 10);
    const bits = toFloat16Array(values);
    values.forEach((v, i) => {
      expect(bits[i]).toBe(float32ToFloat16Bits(v));
      expect(roundToFloat16(v)).toBe(float16BitsToFloat32(bits[i]));
    });
  });
});
