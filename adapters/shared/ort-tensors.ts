import type { DeviceTensor, Feed, HostTensor, TensorData, TensorDataType } from '../../src/spec/backend.js';
import { DisposedError, OrtRuntimeError } from '../../src/errors/index.js';
import { HostDeviceTensor, checkHostTensor, isDeviceTensor, isTensorDataType } from '../../src/spec/host-tensor.js';
import type { OrtRuntime, OrtTensor } from './ort-runtime.js';

/**
 * A tensor ORT left on the device (a WebGPU buffer). It can be fed back to sessions of the same
 * backend without a copy; `download` goes through the backend's run queue.
 */
export class OrtDeviceTensor implements DeviceTensor {
  readonly location = 'device' as const;
  readonly type: TensorDataType;
  readonly dims: readonly number[];
  private tensor: OrtTensor | undefined;

  constructor(
    tensor: OrtTensor,
    /** The backend that made it: only its sessions may take the buffer directly. */
    readonly owner: object,
    private readonly downloader: (tensor: OrtTensor) => Promise<unknown>,
  ) {
    this.type = seamType(tensor.type);
    this.dims = tensor.dims.slice();
    this.tensor = tensor;
  }

  get disposed(): boolean {
    return this.tensor === undefined;
  }

  /** The ORT tensor to feed; throws once disposed. */
  ortTensor(): OrtTensor {
    if (this.tensor === undefined) throw new DisposedError('This device tensor was disposed; it cannot be read or fed any more');
    return this.tensor;
  }

  async download(): Promise<HostTensor> {
    const tensor = this.ortTensor();
    return hostTensorOf(tensor, await this.downloader(tensor)).host();
  }

  dispose(): void {
    const tensor = this.tensor;
    this.tensor = undefined;
    tensor?.dispose();
  }
}

/**
 * Turns one feed into an ORT tensor: host data is wrapped without a copy, this backend's device
 * tensors pass as they are, and anything else (another backend's tensor) is downloaded first.
 */
export async function toOrtFeed(runtime: OrtRuntime, owner: object, graph: string, name: string, feed: Feed): Promise<OrtTensor> {
  let host: HostTensor;
  if (feed instanceof OrtDeviceTensor && feed.owner === owner) return feed.ortTensor();
  if (feed instanceof HostDeviceTensor) host = feed.host();
  else if (isDeviceTensor(feed)) host = await feed.download();
  else host = feed;
  checkHostTensor(graph, name, host);
  return new runtime.Tensor(host.type, host.data, host.dims);
}

/** The host data of an ORT CPU tensor, in the seam's typed array for its type. */
function hostDataOf(tensor: OrtTensor, data: unknown): TensorData {
  const type = seamType(tensor.type);
  // With a global Float16Array, ORT hands float16 out as one; the seam carries the raw bits.
  if (type === 'float16' && !(data instanceof Uint16Array)) {
    const view = data as ArrayBufferView & { length: number };
    return new Uint16Array(view.buffer, view.byteOffset, view.length);
  }
  return data as TensorData;
}

/** A host tensor of an ORT output: its own CPU data, or `data` downloaded from the device. */
export function hostTensorOf(tensor: OrtTensor, data?: unknown): HostDeviceTensor {
  return new HostDeviceTensor({ type: seamType(tensor.type), dims: tensor.dims.slice(), data: hostDataOf(tensor, data ?? tensor.data) });
}

export function isOnDevice(tensor: OrtTensor): boolean {
  return tensor.location !== 'cpu' && tensor.location !== 'cpu-pinned';
}

function seamType(type: string): TensorDataType {
  if (!isTensorDataType(type)) {
    throw new OrtRuntimeError(`ONNX Runtime produced a ${type} tensor; the backend seam carries only float32, float16, int64, int32, uint8 and bool`);
  }
  return type;
}
