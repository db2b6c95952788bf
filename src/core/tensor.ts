import type { DeviceTensor, HostTensor, TensorData, TensorDataType } from '../spec/backend.js';

export function tensor(type: TensorDataType, dims: readonly number[], data: TensorData): HostTensor {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new RangeError(`tensor data has ${data.length} elements, dims ${dims.join('x')} need ${expected}`);
  return { type, dims: dims.slice(), data };
}

export const float32 = (dims: readonly number[], data: Float32Array): HostTensor => tensor('float32', dims, data);

export function int64(dims: readonly number[], values: ArrayLike<number>): HostTensor {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]);
  return tensor('int64', dims, data);
}

export { isDeviceTensor } from '../spec/host-tensor.js';

/** Download a tensor to the host and release the device copy. */
export async function take(t: DeviceTensor): Promise<HostTensor> {
  try {
    return await t.download();
  } finally {
    t.dispose();
  }
}

export async function takeFloat32(t: DeviceTensor): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const host = await take(t);
  if (!(host.data instanceof Float32Array)) throw new TypeError(`expected float32 output, got ${host.type}`);
  return { dims: host.dims, data: host.data };
}
