import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidModelError } from '../../src/errors/invalid-model-error.js';
import { bfloat16ToFloat32, bytesToFloat32, float16ToFloat32, float32ToBfloat16, float32ToFloat16 } from '../../src/formats/float-conversion.js';

/** Oracle: the IEEE 754 binary16 definition evaluated in float64 arithmetic. */
function halfValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Oracle: bfloat16 is the top half of a float32; build the float32 with a DataView. */
function bfloat16Value(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits << 16);
  return view.getFloat32(0);
}

const allHalves = Uint16Array.from({ length: 65536 }, (_, i) => i);

describe('float16 → float32', () => {
  it('is exact for all 65536 bit patterns (tolerance 0: every float16 is a float32)', () => {
    const out = float16ToFloat32(allHalves);
    const wrong: number[] = [];
    for (let bits = 0; bits < 65536; bits++) {
      const want = halfValue(bits);
      if (Number.isNaN(want) ? !Number.isNaN(out[bits]) : !Object.is(out[bits], want)) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
  });
});

describe('bfloat16 → float32', () => {
  it('is exact for all 65536 bit patterns', () => {
    const out = bfloat16ToFloat32(allHalves);
    const wrong: number[] = [];
    for (let bits = 0; bits < 65536; bits++) {
      const want = bfloat16Value(bits);
      if (Number.isNaN(want) ? !Number.isNaN(out[bits]) : !Object.is(out[bits], want)) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
  });
});

/** Checks `chosen` is the nearest half (ties to even) of `x` by comparing with its neighbours, all in float64. */
function isNearest(x: number, chosen: number, decode: (bits: number) => number): boolean {
  const value = decode(chosen);
  if (Number.isNaN(x)) return Number.isNaN(value);
  if (!Number.isFinite(value)) {
    // Overflow: x must be at least halfway between the largest finite value and the next power step.
    return Math.sign(value) === Math.sign(x);
  }
  const error = Math.abs(value - x);
  for (const neighbour of [chosen - 1, chosen + 1]) {
    if ((neighbour & 0x7fff) > 0x7c00 || neighbour < 0 || neighbour > 0xffff) continue;
    const other = decode(neighbour);
    if (Math.sign(other) !== Math.sign(value) && other !== 0 && value !== 0) continue;
    const otherError = Math.abs(other - x);
    if (otherError < error) return false;
    if (otherError === error && (chosen & 1) === 1) return false;
  }
  return true;
}

describe('float32 → float16 / bfloat16 (round to nearest even)', () => {
  it('round-trips every float16 and bfloat16 value exactly', () => {
    const halves = float16ToFloat32(allHalves);
    const back = float32ToFloat16(halves);
    const brain = bfloat16ToFloat32(allHalves);
    const brainBack = float32ToBfloat16(brain);
    const wrong: string[] = [];
    for (let bits = 0; bits < 65536; bits++) {
      const halfOk = Number.isNaN(halves[bits]) ? Number.isNaN(halfValue(back[bits])) : back[bits] === bits;
      const brainOk = Number.isNaN(brain[bits]) ? Number.isNaN(bfloat16Value(brainBack[bits])) : brainBack[bits] === bits;
      if (!halfOk) wrong.push(`f16 0x${bits.toString(16)}`);
      if (!brainOk) wrong.push(`bf16 0x${bits.toString(16)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('picks the nearest value, ties to even, for random float32 inputs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (bits) => {
        const x = new Float32Array(new Uint32Array([bits]).buffer);
        const half = float32ToFloat16(x)[0];
        const brain = float32ToBfloat16(x)[0];
        // At or beyond 65520 (halfway from 65504 to the next would-be step) float16 overflows to ±Inf.
        const halfOk = Number.isFinite(x[0]) && Math.abs(x[0]) >= 65520 ? (half & 0x7fff) === 0x7c00 : isNearest(x[0], half, halfValue);
        return halfOk && isNearest(x[0], brain, bfloat16Value);
      }),
      { numRuns: 20000, seed: 5 },
    );
  });

  it('handles the float16 rounding edge cases', () => {
    const cases: Array<[number, number]> = [
      [65504, 0x7bff], // largest finite
      [65519.99, 0x7bff],
      [65520, 0x7c00], // halfway to the next step rounds up to Inf
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // exactly half of it: tie to even (zero)
      [1.5 * 2 ** -25, 0x0001],
      [1 + 2 ** -11, 0x3c00], // tie between 1 and 1+2^-10: even is 1
      [1 + 3 * 2 ** -11, 0x3c02], // tie: rounds up to even mantissa 2
      [-0, 0x8000],
    ];
    for (const [value, bits] of cases) expect(float32ToFloat16(new Float32Array([value]))[0], String(value)).toBe(bits);
  });
});

describe('bytesToFloat32', () => {
  it('widens little-endian bytes of each float dtype and refuses integer dtypes', () => {
    const halves = new Uint16Array([0x3c00, 0xc000, 0x7c00]);
    expect([...bytesToFloat32(new Uint8Array(halves.buffer), 'float16')]).toEqual([1, -2, Infinity]);
    expect([...bytesToFloat32(new Uint8Array(new Uint16Array([0x3f80, 0x4049]).buffer), 'bfloat16')]).toEqual([1, bfloat16Value(0x4049)]);
    expect([...bytesToFloat32(new Uint8Array(new Float64Array([0.5, 1e300]).buffer), 'float64')]).toEqual([0.5, Infinity]);
    // An odd byte offset forces the aligned copy path.
    const unaligned = new Uint8Array(9);
    unaligned.set(new Uint8Array(new Float32Array([3.25, -1]).buffer), 1);
    expect([...bytesToFloat32(unaligned.subarray(1), 'float32')]).toEqual([3.25, -1]);
    expect(() => bytesToFloat32(new Uint8Array(8), 'int64')).toThrow(InvalidModelError);
    expect(() => bytesToFloat32(new Uint8Array(3), 'float16')).toThrow(InvalidModelError);
  });
});
