import { describe, expect, it } from 'vitest';
import { MemoryWeights } from '../../../../src/convert/graphs/weights.js';
import { InvalidModelError } from '../../../../src/errors/invalid-model-error.js';

describe('MemoryWeights', () => {
  const data = new Float32Array([1, 2, 3, 4, 5, 6]);
  const weights = new MemoryWeights({ w: { shape: [2, 3], data } });

  it('reports presence and shape', () => {
    expect(weights.has('w')).toBe(true);
    expect(weights.has('toString')).toBe(false);
    expect(weights.shape('w')).toEqual([2, 3]);
  });

  it('returns copies, so callers may modify them', () => {
    const copy = weights.float32('w');
    copy[0] = 99;
    expect(weights.float32('w')[0]).toBe(1);
  });

  it('throws InvalidModelError for a missing key or a shape that does not fit the data', () => {
    expect(() => weights.float32('missing')).toThrow(InvalidModelError);
    expect(() => new MemoryWeights({ w: { shape: [4], data } })).toThrow(/needs 4 values, got 6/);
  });
});
