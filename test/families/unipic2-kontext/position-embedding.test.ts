import { describe, expect, it } from 'vitest';
import { cropPositionTable, roundToBfloat16 } from '../../../src/core/diffusion/position-embedding.js';

const config = { width: 16, maxSize: 24, baseSize: 16, interpolationScale: 1, rounding: 'float32' as const };

describe('SD3 sin-cos position crop', () => {
  it('is the centred crop of the full table, [sin x, cos x, sin y, cos y]', () => {
    const full = cropPositionTable(config, 24, 24);
    const crop = cropPositionTable(config, 4, 6);
    const top = 10;
    const left = 9;
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 6; x++) {
        const row = full.subarray(((top + y) * 24 + left + x) * 16, ((top + y) * 24 + left + x + 1) * 16);
        expect(Array.from(crop.subarray((y * 6 + x) * 16, (y * 6 + x + 1) * 16))).toEqual(Array.from(row));
      }
    }
    // Token (y, x) of the full table, channel k of the x half: sin(x / 1.5 · 10000^(−k/4)).
    const x = 7;
    const y = 3;
    const at = (y * 24 + x) * 16;
    const pos = Math.fround(x / 1.5);
    expect(full[at + 1]).toBe(Math.fround(Math.sin(pos * 10000 ** -0.25)));
    expect(full[at + 4]).toBe(Math.fround(Math.cos(pos)));
    expect(full[at + 8]).toBe(Math.fround(Math.sin(Math.fround(y / 1.5))));
  });

  it('rounds to bfloat16 to nearest even', () => {
    expect(roundToBfloat16(1 + 2 ** -8)).toBe(1); // tie → even
    expect(roundToBfloat16(1 + 3 * 2 ** -8)).toBe(1 + 2 ** -6); // tie → even upward
    expect(roundToBfloat16(1 + 2 ** -8 + 2 ** -20)).toBe(1 + 2 ** -7);
    const rounded = cropPositionTable({ ...config, rounding: 'bfloat16' }, 2, 2);
    const plain = cropPositionTable(config, 2, 2);
    for (let i = 0; i < plain.length; i++) expect(rounded[i]).toBe(roundToBfloat16(plain[i]));
  });

  it('refuses a grid larger than the table', () => {
    expect(() => cropPositionTable(config, 25, 2)).toThrow(RangeError);
  });
});
