import type { TensorData } from '../../src/spec/backend.js';

/**
 * The slice of the ONNX Runtime JavaScript API (onnxruntime-common) both adapters use. Declared
 * structurally so the shared code depends on neither package: each adapter casts its lazily
 * imported module to `OrtRuntime` in exactly one place.
 */

export type OrtDataLocation = 'none' | 'cpu' | 'cpu-pinned' | 'texture' | 'gpu-buffer' | 'ml-tensor';

export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly location: OrtDataLocation;
  /** Throws unless `location` is `cpu` / `cpu-pinned`. */
  readonly data: unknown;
  getData(releaseData?: boolean): Promise<unknown>;
  dispose(): void;
}

export interface OrtInferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>, fetches?: readonly string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

/** Options as ORT reads them; each adapter fills the ones its runtime honours. */
export type OrtSessionOptions = Record<string, unknown>;

export interface OrtRuntime {
  readonly Tensor: new (type: string, data: TensorData, dims: readonly number[]) => OrtTensor;
  readonly InferenceSession: {
    create(model: string | Uint8Array, options?: OrtSessionOptions): Promise<OrtInferenceSession>;
  };
}
