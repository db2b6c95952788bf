import type { BackendInfo, BackendInitOptions, GraphSource, SessionOptions } from '../../src/spec/backend.js';
import type { DeviceAttempt } from '../../src/errors/index.js';
import { OrtBackend, type DeviceReport, type ModelInput, type PreparedRuntime } from '../shared/ort-backend.js';
import type { RuntimeImporter } from '../shared/load-runtime.js';
import type { OrtRuntime, OrtSessionOptions, OrtTensor } from '../shared/ort-runtime.js';
import { parseExtra } from '../shared/parse-extra.js';
import { probeFloat16 } from '../shared/probes.js';
import { loadOnnxruntimeWeb } from './load-onnxruntime-web.js';
import { WEB_ORT_DEVICES, webOrtInitExtraSchema, webOrtSessionExtraSchema, type WebOrtDevice } from './web-ort-options.js';

export interface WebOrtBackendOptions {
  /**
   * How to import onnxruntime-web. Default `import('onnxruntime-web')`; pass
   * `() => import('onnxruntime-web/webgpu')` for the build with native WebGPU kernels.
   */
  readonly importRuntime?: RuntimeImporter;
}

/** `ort.env` as far as this adapter touches it. */
interface WebOrtEnvironment {
  readonly wasm: { numThreads?: number; wasmPaths?: unknown };
  readonly webgpu?: { readonly device?: Promise<WebGpuDeviceView | undefined> };
}

/** The parts of a GPUDevice read here (no @webgpu/types dependency). */
interface WebGpuDeviceView {
  readonly limits?: { readonly maxBufferSize?: number; readonly maxStorageBufferBindingSize?: number };
  readonly features?: { has(feature: string): boolean };
}

// Browsers refuse (or cannot fetch into) single buffers past 2 GiB, so no model file may be larger.
const MAX_BROWSER_FILE_BYTES = 2 ** 31 - 1;
const WASM_ADDRESS_SPACE_BYTES = 2 ** 32;
const WASM_PTRDIFF_MAX = 2 ** 31 - 1;

/**
 * The browser backend on onnxruntime-web: WebGPU or WebAssembly. Models and external data load
 * from URLs (ORT fetches them; no copy through the JS heap) or from bytes. Must stay free of
 * `onnxruntime-node` and `node:` imports: it is what browser bundles get.
 */
export class WebOrtBackend extends OrtBackend<WebOrtDevice> {
  readonly name = 'web-ort';
  protected readonly offeredDevices = WEB_ORT_DEVICES;
  private environment: WebOrtEnvironment | undefined;
  private threadsWarned = false;

  constructor(private readonly options: WebOrtBackendOptions = {}) {
    super();
  }

  protected async prepareRuntime(options: BackendInitOptions): Promise<PreparedRuntime<WebOrtDevice>> {
    const extra = parseExtra(this.name, 'init', webOrtInitExtraSchema, options.extra);
    const runtime = await loadOnnxruntimeWeb(this.options.importRuntime);
    this.environment = (runtime as unknown as { env: WebOrtEnvironment }).env;
    const wasm = this.environment.wasm;
    if (extra.wasmPaths !== undefined) wasm.wasmPaths = extra.wasmPaths;
    // Threads in Node spawn worker_threads that keep the process alive and gain little on the
    // small test graphs; one thread is the safe default there.
    if (extra.numThreads !== undefined) wasm.numThreads = extra.numThreads;
    else if (runsInNode()) wasm.numThreads = 1;
    return { runtime, autoOrder: extra.autoOrder ?? WEB_ORT_DEVICES };
  }

  protected executionProviders(device: WebOrtDevice): unknown[] {
    return [device];
  }

  protected override unavailableReason(device: WebOrtDevice): string | undefined {
    if (device !== 'webgpu') return undefined;
    const gpu = (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;
    return gpu ? undefined : 'WebGPU is not available here (navigator.gpu is missing)';
  }

  protected sessionOptions(_device: WebOrtDevice, options: SessionOptions): OrtSessionOptions {
    const { configEntries, ...extra } = parseExtra(this.name, 'session', webOrtSessionExtraSchema, options.extra);
    if (options.threads !== undefined && options.threads !== this.environment?.wasm.numThreads && !this.threadsWarned) {
      this.threadsWarned = true;
      this.warn?.({
        code: 'option-ignored',
        message: `${this.name}: per-session threads (${options.threads}) are ignored; WebAssembly threads are set once, by init extra.numThreads`,
      });
    }
    return {
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      ...extra,
      ...(configEntries ? { extra: configEntries } : {}),
    };
  }

  /** A URL (or, in Node, a file path) and URL/bytes external data go to ORT unchanged. */
  protected async modelInput(graph: GraphSource): Promise<ModelInput> {
    const model = graph.path ?? (graph.bytes as Uint8Array);
    return graph.externalData?.length ? { model, externalData: graph.externalData } : { model };
  }

  protected keepsOutputsOnDevice(device: WebOrtDevice): boolean {
    return device === 'webgpu';
  }

  protected downloadDeviceTensor(tensor: OrtTensor): Promise<unknown> {
    return tensor.getData();
  }

  protected async describeDevice(
    device: WebOrtDevice,
    runtime: OrtRuntime,
    failed: readonly DeviceAttempt[],
    autoOrder: readonly WebOrtDevice[],
  ): Promise<DeviceReport<WebOrtDevice>> {
    const limits: { -readonly [K in keyof BackendInfo['limits']]: BackendInfo['limits'][K] } = { maxFileBytes: MAX_BROWSER_FILE_BYTES };
    // ORT's wasm heap holds every weight of a session: a graph larger than wasm32's whole address
    // space can never be created there (it would end in a wasm abort after the download). It is
    // also all the memory the device has: every session of the page shares that one heap.
    if (device === 'wasm') {
      limits.maxGraphBytes = WASM_ADDRESS_SPACE_BYTES;
      // The graphs one call needs together share that heap too.
      limits.maxResidentBytes = WASM_ADDRESS_SPACE_BYTES;
      limits.deviceMemoryBytes = WASM_ADDRESS_SPACE_BYTES;
      // ORT's CPU MultiHeadAttention counts a head's operations in a 32-bit ptrdiff_t on wasm32
      // (measured: full-size UniPic-1 at 1024 px overflows in the VAE's and the MAR's attention).
      limits.maxAttentionHeadOps = WASM_PTRDIFF_MAX;
    }
    let fp16 = false;
    if (device === 'webgpu') {
      const gpu = await this.webgpuDevice();
      // The adapter's own answer first; the probe also catches kernels that refuse float16.
      fp16 = gpu?.features?.has('shader-f16') !== false && (await probeFloat16(runtime, this.executionProviders(device)));
      // WebGPU has no API for the device's memory, only per-buffer limits; families check their
      // largest weight against those.
      const maxBufferBytes = gpu?.limits?.maxBufferSize;
      if (maxBufferBytes !== undefined) limits.maxBufferBytes = maxBufferBytes;
      const maxBindingBytes = gpu?.limits?.maxStorageBufferBindingSize;
      if (maxBindingBytes !== undefined) limits.maxStorageBufferBindingBytes = maxBindingBytes;
      limits.deviceMemoryUnknown = 'WebGPU does not report device memory';
    }
    const failedDevices = new Set(failed.map((attempt) => attempt.device));
    // wasm needs nothing but the runtime files, so it counts as available unless it failed.
    const availableDevices = WEB_ORT_DEVICES.filter(
      (candidate) => candidate === device || (candidate === 'wasm' && autoOrder.includes(candidate) && !failedDevices.has(candidate)),
    );
    return { fp16, limits, availableDevices };
  }

  /** The GPUDevice ORT created (after the probe, the getter resolves to it). */
  private async webgpuDevice(): Promise<WebGpuDeviceView | undefined> {
    try {
      return await this.environment?.webgpu?.device;
    } catch {
      // Only used for reported capabilities; the backend works without them.
      return undefined;
    }
  }
}

function runsInNode(): boolean {
  const process = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof process?.versions?.node === 'string';
}
