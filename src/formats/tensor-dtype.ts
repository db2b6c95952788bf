import { InvalidModelError } from '../errors/invalid-model-error.js';

/** Element types a checkpoint tensor can have, named like ONNX Runtime's tensor types. */
export const TENSOR_DTYPES = ['float64', 'float32', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

export const DTYPE_BYTE_SIZE: Readonly<Record<TensorDtype, number>> = {
  float64: 8,
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export function isFloatDtype(dtype: TensorDtype): boolean {
  return dtype === 'float64' || dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16';
}

/**
 * Number of elements of a shape, refusing anything that is not a list of safe non-negative
 * integers or whose product leaves the safe-integer range (a lying header could otherwise make
 * `numel × itemSize` wrap around and pass a size check).
 */
export function elementCount(shape: readonly number[], what: string): number {
  let count = 1;
  for (const dimension of shape) {
    if (!Number.isSafeInteger(dimension) || dimension < 0) {
      throw new InvalidModelError(`${what}: shape [${shape.join(', ')}] has an invalid dimension ${String(dimension)}`);
    }
    count *= dimension;
    if (!Number.isSafeInteger(count)) {
      throw new InvalidModelError(`${what}: shape [${shape.join(', ')}] has too many elements`);
    }
  }
  return count;
}
