import type { DeviceTensor, HostTensor, TensorData, TensorDataType } from '../spec/backend.js';
import { DisposedError } from '../errors/index.js';

/** Tensor bookkeeping the mock shares with its tensors. */
export interface MockTensorLedger {
  tensorCreated(tensor: MockTensor): void;
  tensorDisposed(tensor: MockTensor): void;
}

/**
 * The mock's DeviceTensor. `location: 'device'` ones imitate GPU-resident outputs: the data is
 * still plain JS, but reading it needs `download()` like the real thing.
 */
export class MockTensor implements DeviceTensor {
  readonly type: TensorDataType;
  readonly dims: readonly number[];
  private data: TensorData | undefined;

  constructor(
    tensor: HostTensor,
    readonly location: 'cpu' | 'device',
    readonly owner: MockTensorLedger,
  ) {
    this.type = tensor.type;
    this.dims = tensor.dims.slice();
    this.data = tensor.data;
    owner.tensorCreated(this);
  }

  get disposed(): boolean {
    return this.data === undefined;
  }

  async download(): Promise<HostTensor> {
    return this.host();
  }

  /** The data without the async hop, for the mock's own feed path. */
  host(): HostTensor {
    if (this.data === undefined) throw new DisposedError('This mock tensor was disposed; it cannot be read or fed any more');
    return { type: this.type, dims: this.dims, data: this.data };
  }

  dispose(): void {
    if (this.data === undefined) return;
    this.data = undefined;
    this.owner.tensorDisposed(this);
  }
}
