/**
 * The backend seam. Adapters (adapters/*) implement this and nothing else: they create sessions
 * from graph files and run them. All model logic lives in src/core.
 */

export const BACKEND_SPECIFICATION_VERSION = 1 as const;

/** Devices an adapter may offer. `auto` is resolved by the adapter in its own priority order. */
export type Device = 'cuda' | 'webgpu' | 'cpu' | 'wasm';
export type DeviceRequest = Device | 'auto';

export type TensorDataType = 'float32' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';

export type TensorData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

/** A plain CPU tensor crossing the seam. */
export interface HostTensor {
  readonly type: TensorDataType;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

/**
 * A tensor the adapter may keep on its device (GPU buffer, ORT tensor). The core only passes it
 * back to `run` as a feed, reads it with `download`, or releases it with `dispose`.
 */
export interface DeviceTensor {
  readonly type: TensorDataType;
  readonly dims: readonly number[];
  readonly location: 'cpu' | 'device';
  download(): Promise<HostTensor>;
  dispose(): void;
}

export type Feed = HostTensor | DeviceTensor;

export interface BackendInfo {
  /** Adapter name, e.g. `node-ort`, `web-ort`, `mock`. */
  readonly name: string;
  readonly device: Device;
  /** Devices this adapter could use on this machine, in its priority order. */
  readonly availableDevices: readonly Device[];
  readonly fp16: boolean;
  readonly limits: {
    /** The largest device buffer (WebGPU: the GPUDevice's `maxBufferSize`). */
    readonly maxBufferBytes?: number;
    /** The largest buffer one shader binding may see (WebGPU: `maxStorageBufferBindingSize`); a weight larger than this cannot be bound. */
    readonly maxStorageBufferBindingBytes?: number;
    /** The largest single file. */
    readonly maxFileBytes?: number;
    /** The most one graph's files may hold together (wasm: its 4 GiB address space). */
    readonly maxGraphBytes?: number;
    /**
     * The most the weights of all sessions one call holds at once may add up to (wasm: every
     * session shares the one 4 GiB address space).
     */
    readonly maxResidentBytes?: number;
    /**
     * Memory the device holds, when the adapter can tell (families that need most of a GPU check it
     * before loading): node-ort CUDA from `nvidia-smi`, web-ort wasm its 4 GiB address space.
     * WebGPU has no API for it.
     */
    readonly deviceMemoryBytes?: number;
    /** Of that, what was free when the backend started (node-ort CUDA: other processes hold the rest). */
    readonly deviceFreeMemoryBytes?: number;
    /** Why `deviceMemoryBytes` is absent, when the adapter tried to find it (e.g. `nvidia-smi not found`). */
    readonly deviceMemoryUnknown?: string;
    /**
     * The most operations (2 · queries · keys · head size) one head of a fused attention kernel may
     * count: ONNX Runtime's CPU `MultiHeadAttention` counts them in a `ptrdiff_t`, which wasm32 holds
     * in 32 bits (web-ort wasm: 2³¹ − 1; past it the run fails with ORT's SafeInt "Integer overflow").
     */
    readonly maxAttentionHeadOps?: number;
  };
}

/** What the adapter gets to build a session: a path (Node) or bytes, plus external data. */
export interface GraphSource {
  readonly name: string;
  /** Path on disk (Node adapters) or URL (web adapters). Exactly one of `path` / `bytes`. */
  readonly path?: string;
  readonly bytes?: Uint8Array;
  /** External data files referenced by the graph, by the name the graph uses. */
  readonly externalData?: ReadonlyArray<{ readonly path: string; readonly data: Uint8Array | string }>;
}

export interface SessionOptions {
  /** Threads for CPU/wasm execution; adapter default when absent. */
  readonly threads?: number;
  /**
   * `false`: give a run's working memory back when the run ends instead of keeping it for the
   * session's next run (ORT's CPU memory arena). For graphs with large activations run once in a
   * while, whose kept peaks would add up across sessions. Adapters without such an arena ignore it.
   */
  readonly keepWorkingMemory?: boolean;
  /** Adapter-specific knobs, validated by the adapter itself. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

export interface RunOptions {
  /** Output names to leave on the device (returned as DeviceTensor with location 'device'). */
  readonly keepOnDevice?: readonly string[];
  /** Only compute these outputs (default: all). */
  readonly outputs?: readonly string[];
}

export interface BackendSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Outputs not kept on device are returned as host tensors (`location: 'cpu'`). */
  run(feeds: Readonly<Record<string, Feed>>, options?: RunOptions): Promise<Record<string, DeviceTensor>>;
  dispose(): Promise<void>;
}

export interface BackendInitOptions {
  readonly device?: DeviceRequest;
  /** Called for non-fatal problems such as a device fallback. */
  readonly onWarning?: (warning: { code: string; message: string }) => void;
  readonly extra?: Readonly<Record<string, unknown>>;
}

export interface Backend {
  readonly specificationVersion: typeof BACKEND_SPECIFICATION_VERSION;
  readonly name: string;
  /** Resolve the device (trying in priority order for `auto`) and report capabilities. */
  init(options?: BackendInitOptions): Promise<BackendInfo>;
  createSession(graph: GraphSource, options?: SessionOptions): Promise<BackendSession>;
  /** Number of sessions created and not yet disposed (leak checks). */
  readonly liveSessions: number;
  dispose(): Promise<void>;
}
