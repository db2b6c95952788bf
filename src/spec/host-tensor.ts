import type { DeviceTensor, HostTensor, TensorData, TensorDataType } from './backend.js';
import { DisposedError, InvalidInputError } from '../errors/index.js';

type TypedArrayConstructor = new (...args: never[]) => TensorData;

/** The typed array each seam type travels in (float16 as raw bits, bool as bytes). */
export const TYPED_ARRAY_OF: Readonly<Record<TensorDataType, TypedArrayConstructor>> = {
  float32: Float32Array,
  float16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

export function isTensorDataType(value: string): value is TensorDataType {
  return Object.hasOwn(TYPED_ARRAY_OF, value);
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((product, size) => product * size, 1);
}

/** A feed is a device tensor when it can be downloaded; plain host tensors are data only. */
export function isDeviceTensor(feed: HostTensor | DeviceTensor): feed is DeviceTensor {
  return typeof (feed as DeviceTensor).download === 'function';
}

/**
 * Rejects host tensors ORT would misread: a wrong typed array reinterprets bytes, and a length
 * that disagrees with the dims reads past the data or ignores part of it.
 */
export function checkHostTensor(graph: string, name: string, tensor: HostTensor, role: 'input' | 'output' = 'input'): void {
  const where = `graph '${graph}', ${role} '${name}'`;
  if (!isTensorDataType(tensor.type)) throw new InvalidInputError(`${where}: unknown tensor type '${String(tensor.type)}'`);
  if (!Array.isArray(tensor.dims) || !tensor.dims.every((size) => Number.isSafeInteger(size) && size >= 0)) {
    throw new InvalidInputError(`${where}: dims must be non-negative integers, got ${JSON.stringify(tensor.dims)}`);
  }
  const expected = TYPED_ARRAY_OF[tensor.type];
  if (!(tensor.data instanceof expected)) {
    throw new InvalidInputError(`${where}: ${tensor.type} data must be a ${expected.name}, got ${tensor.data?.constructor?.name ?? typeof tensor.data}`);
  }
  const count = elementCount(tensor.dims);
  if (tensor.data.length !== count) {
    throw new InvalidInputError(`${where}: dims [${tensor.dims.join(', ')}] hold ${count} elements but the data has ${tensor.data.length}`);
  }
}

/** A device tensor whose data already lives in JS memory (`location: 'cpu'`). */
export class HostDeviceTensor implements DeviceTensor {
  readonly location = 'cpu' as const;
  readonly type: TensorDataType;
  readonly dims: readonly number[];
  private data: TensorData | undefined;

  constructor(tensor: HostTensor) {
    this.type = tensor.type;
    this.dims = tensor.dims;
    this.data = tensor.data;
  }

  get disposed(): boolean {
    return this.data === undefined;
  }

  /** The data itself, not a copy: treat it as read-only while this tensor is still fed. */
  async download(): Promise<HostTensor> {
    return this.host();
  }

  /** Synchronous access for the adapter's own feed path. */
  host(): HostTensor {
    if (this.data === undefined) throw new DisposedError('This tensor was disposed; it cannot be read or fed any more');
    return { type: this.type, dims: this.dims, data: this.data };
  }

  dispose(): void {
    this.data = undefined;
  }
}
