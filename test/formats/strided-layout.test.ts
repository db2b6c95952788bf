import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidModelError } from '../../src/errors/invalid-model-error.js';
import { contiguousStride, gatherStrided, isContiguous, viewSpan } from '../../src/formats/strided-layout.js';

/** Oracle: element (i0, i1, ...) of a view is storage[offset + Σ ik·stride_k], enumerated in row-major order. */
function naiveGather(storage: Uint16Array, shape: number[], stride: number[], offset: number): number[] {
  const out: number[] = [];
  const count = shape.reduce((a, b) => a * b, 1);
  for (let flat = 0; flat < count; flat++) {
    let rest = flat;
    let position = offset;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      position += (rest % shape[axis]) * stride[axis];
      rest = Math.floor(rest / shape[axis]);
    }
    out.push(storage[position]);
  }
  return out;
}

describe('strided layout', () => {
  it('computes row-major strides and recognises contiguity', () => {
    expect(contiguousStride([2, 3, 4])).toEqual([12, 4, 1]);
    expect(contiguousStride([])).toEqual([]);
    expect(isContiguous([2, 3], [3, 1])).toBe(true);
    expect(isContiguous([3, 2], [1, 3])).toBe(false);
    expect(isContiguous([1, 4], [99, 1])).toBe(true);
  });

  it('gathers any in-bounds view like the naive index formula (random shapes, strides, offsets)', () => {
    const view = fc
      .array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 7 })), { maxLength: 4 })
      .chain((axes) => fc.tuple(fc.constant(axes), fc.integer({ min: 0, max: 9 })));
    fc.assert(
      fc.property(view, ([axes, offset]) => {
        const shape = axes.map(([size]) => size);
        const stride = axes.map(([, step]) => step);
        const storageElements = offset + shape.reduce((sum, size, axis) => sum + Math.max(0, size - 1) * stride[axis], 0) + 1;
        const storage = Uint16Array.from({ length: storageElements }, (_, i) => (i * 7919 + 13) & 0xffff);
        const span = viewSpan(shape, stride, offset, storageElements, 'view');
        const bytes = new Uint8Array(storage.buffer).subarray(span.first * 2, (span.first + span.length) * 2);
        const gathered = gatherStrided(bytes, shape, stride, 2);
        expect([...new Uint16Array(gathered.buffer)]).toEqual(naiveGather(storage, shape, stride, offset));
      }),
      { numRuns: 500, seed: 11 },
    );
  });

  it('refuses views that reach past their storage or have bad strides', () => {
    expect(() => viewSpan([2, 3], [3, 1], 1, 6, 'v')).toThrow(/storage element 6/);
    expect(() => viewSpan([2, 3], [3], 0, 6, 'v')).toThrow(InvalidModelError);
    expect(() => viewSpan([2], [-1], 1, 6, 'v')).toThrow(InvalidModelError);
    expect(() => viewSpan([2], [1], -1, 6, 'v')).toThrow(InvalidModelError);
    expect(() => viewSpan([2 ** 40, 2 ** 40], [1, 1], 0, 6, 'v')).toThrow(InvalidModelError);
    expect(viewSpan([0, 5], [5, 1], 100, 6, 'v')).toEqual({ first: 100, length: 0 });
  });
});
