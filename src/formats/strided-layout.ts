import { InvalidModelError } from '../errors/invalid-model-error.js';
import { elementCount } from './tensor-dtype.js';

/** Row-major strides (in elements) of a dense tensor of this shape. */
export function contiguousStride(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  let step = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    stride[axis] = step;
    step *= shape[axis];
  }
  return stride;
}

/** True when the elements are laid out densely in row-major order (size-1 axes may have any stride). */
export function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    if (shape[axis] === 1) continue;
    if (stride[axis] !== expected) return false;
    expected *= shape[axis];
  }
  return true;
}

/** The storage elements a view touches: `[first, first + length)`. Empty tensors touch nothing. */
export interface StorageSpan {
  readonly first: number;
  readonly length: number;
}

/**
 * Validates a view (shape, stride, offset in elements) against a storage of `storageElements`
 * elements and returns the span it reads. PyTorch strides are never negative.
 */
export function viewSpan(shape: readonly number[], stride: readonly number[], storageOffset: number, storageElements: number, what: string): StorageSpan {
  if (stride.length !== shape.length) {
    throw new InvalidModelError(`${what}: stride [${stride.join(', ')}] does not match shape [${shape.join(', ')}]`);
  }
  const count = elementCount(shape, what);
  if (!Number.isSafeInteger(storageOffset) || storageOffset < 0) {
    throw new InvalidModelError(`${what}: invalid storage offset ${String(storageOffset)}`);
  }
  let last = storageOffset;
  for (let axis = 0; axis < shape.length; axis++) {
    const step = stride[axis];
    if (!Number.isSafeInteger(step) || step < 0) {
      throw new InvalidModelError(`${what}: invalid stride ${String(step)} on axis ${axis}`);
    }
    if (shape[axis] > 0) last += (shape[axis] - 1) * step;
    if (!Number.isSafeInteger(last)) throw new InvalidModelError(`${what}: view reaches past any storage`);
  }
  if (count === 0) return { first: storageOffset, length: 0 };
  if (last >= storageElements) {
    throw new InvalidModelError(`${what}: view reads storage element ${last} but its storage holds only ${storageElements} elements`);
  }
  return { first: storageOffset, length: last - storageOffset + 1 };
}

/**
 * Copies a strided view into dense row-major bytes. `source` holds the storage elements from the
 * view's first element on (the span from `viewSpan`), so strides index into it from 0.
 */
export function gatherStrided(source: Uint8Array, shape: readonly number[], stride: readonly number[], itemSize: number): Uint8Array {
  const count = elementCount(shape, 'view');
  const out = new Uint8Array(count * itemSize);
  if (count === 0) return out;
  const rank = shape.length;
  if (rank === 0) {
    out.set(source.subarray(0, itemSize));
    return out;
  }
  // Innermost axis: one run of bytes when it is dense, element by element otherwise.
  const innerLength = shape[rank - 1];
  const innerStrideBytes = stride[rank - 1] * itemSize;
  const innerDense = stride[rank - 1] === 1 || innerLength === 1;
  const index = new Array<number>(rank - 1).fill(0);
  let sourceOffset = 0;
  let outOffset = 0;
  const rows = count / innerLength;
  for (let row = 0; row < rows; row++) {
    if (innerDense) {
      out.set(source.subarray(sourceOffset, sourceOffset + innerLength * itemSize), outOffset);
      outOffset += innerLength * itemSize;
    } else {
      let elementOffset = sourceOffset;
      for (let i = 0; i < innerLength; i++) {
        for (let b = 0; b < itemSize; b++) out[outOffset + b] = source[elementOffset + b];
        outOffset += itemSize;
        elementOffset += innerStrideBytes;
      }
    }
    // Odometer over the outer axes.
    for (let axis = rank - 2; axis >= 0; axis--) {
      index[axis] += 1;
      sourceOffset += stride[axis] * itemSize;
      if (index[axis] < shape[axis]) break;
      sourceOffset -= index[axis] * stride[axis] * itemSize;
      index[axis] = 0;
    }
  }
  return out;
}
