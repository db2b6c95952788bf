import { estimateStorage, type StorageEstimateResult } from './storage-estimate.js';

/** What this browser (page or worker) offers a model, measured rather than guessed from the user agent. */
export interface BrowserCapabilities {
  readonly webgpu: WebgpuCapabilities;
  /** COOP/COEP in force: SharedArrayBuffer exists and onnxruntime-web may use several threads. */
  readonly crossOriginIsolated: boolean;
  /** Threads onnxruntime-web's wasm can use (1 unless cross-origin isolated). */
  readonly wasmThreads: number;
  /** WebAssembly SIMD validates (onnxruntime-web ships SIMD builds only). */
  readonly wasmSimd: boolean;
  /** The Cache API exists here (it needs a secure context: https or localhost). */
  readonly cacheApi: boolean;
  readonly storage: StorageEstimateResult;
  /** `navigator.deviceMemory` (Chromium only, rounded and capped at 8 GiB by design). */
  readonly deviceMemoryGiB?: number;
  /** Problems worth telling the user about, most serious first. Empty when all is well. */
  readonly warnings: readonly ProbeWarning[];
}

export interface WebgpuCapabilities {
  readonly available: boolean;
  /** Why not, when unavailable. */
  readonly reason?: string;
  /** A software adapter (SwiftShader, WARP): correct but slow. */
  readonly fallbackAdapter?: boolean;
  readonly vendor?: string;
  readonly architecture?: string;
  readonly description?: string;
  /** Half-precision shaders: needed by fp16 graphs on WebGPU. */
  readonly shaderF16: boolean;
  readonly maxBufferSize?: number;
  readonly maxStorageBufferBindingSize?: number;
}

export type ProbeWarningCode =
  | 'webgpu-unavailable'
  | 'webgpu-fallback-adapter'
  | 'webgpu-no-shader-f16'
  | 'webgpu-small-buffers'
  | 'wasm-no-simd'
  | 'not-cross-origin-isolated'
  | 'no-cache-api'
  | 'low-storage';

export interface ProbeWarning {
  readonly code: ProbeWarningCode;
  readonly message: string;
}

export interface ProbeOptions {
  /** The largest single graph file you will load: checked against WebGPU's buffer limits. */
  readonly largestFileBytes?: number;
  /** Bytes the model will add to the cache: checked against the storage quota left. */
  readonly downloadBytes?: number;
}

interface AdapterLike {
  readonly features: { has(name: string): boolean };
  readonly limits: { readonly maxBufferSize?: number; readonly maxStorageBufferBindingSize?: number };
  readonly isFallbackAdapter?: boolean;
  readonly info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
}

interface NavigatorLike {
  readonly gpu?: { requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null> };
  readonly hardwareConcurrency?: number;
  readonly deviceMemory?: number;
}

// A function returning v128.const 0: valid exactly when the engine has WebAssembly SIMD.
const SIMD_PROBE = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // magic, version
  0x01,
  0x05,
  0x01,
  0x60,
  0x00,
  0x01,
  0x7b, // type: () -> v128
  0x03,
  0x02,
  0x01,
  0x00, // one function of that type
  0x0a,
  0x16,
  0x01,
  0x14,
  0x00,
  0xfd,
  0x0c,
  ...new Array<number>(16).fill(0),
  0x0b, // body: v128.const 0; end
]);

async function probeWebgpu(navigator: NavigatorLike | undefined): Promise<WebgpuCapabilities> {
  const gpu = navigator?.gpu;
  if (!gpu) return { available: false, reason: 'navigator.gpu is missing (no WebGPU in this browser, or not a secure context)', shaderF16: false };
  let adapter: AdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return { available: false, reason: `requestAdapter() failed: ${error instanceof Error ? error.message : String(error)}`, shaderF16: false };
  }
  if (!adapter) return { available: false, reason: 'requestAdapter() returned null (WebGPU disabled, blocklisted GPU, or no GPU)', shaderF16: false };
  const info = adapter.info ?? {};
  const fallback = info.isFallbackAdapter ?? adapter.isFallbackAdapter;
  return {
    available: true,
    ...(fallback !== undefined ? { fallbackAdapter: fallback } : {}),
    ...(info.vendor ? { vendor: info.vendor } : {}),
    ...(info.architecture ? { architecture: info.architecture } : {}),
    ...(info.description ? { description: info.description } : {}),
    shaderF16: adapter.features.has('shader-f16'),
    ...(adapter.limits.maxBufferSize !== undefined ? { maxBufferSize: adapter.limits.maxBufferSize } : {}),
    ...(adapter.limits.maxStorageBufferBindingSize !== undefined ? { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize } : {}),
  };
}

function mebibytes(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}

function warningsFor(capabilities: Omit<BrowserCapabilities, 'warnings'>, options: ProbeOptions): ProbeWarning[] {
  const warnings: ProbeWarning[] = [];
  const { webgpu } = capabilities;
  if (!capabilities.wasmSimd) {
    warnings.push({ code: 'wasm-no-simd', message: 'WebAssembly SIMD is missing: onnxruntime-web cannot run on wasm here' });
  }
  if (!webgpu.available) {
    warnings.push({ code: 'webgpu-unavailable', message: `WebGPU is unavailable (${webgpu.reason}); models run on wasm, much slower` });
  } else {
    if (webgpu.fallbackAdapter) {
      warnings.push({ code: 'webgpu-fallback-adapter', message: 'the WebGPU adapter is a software fallback: it works, but slower than wasm' });
    }
    if (!webgpu.shaderF16) {
      warnings.push({ code: 'webgpu-no-shader-f16', message: 'WebGPU has no shader-f16: fp16 graphs are replaced by fp32 ones (twice the memory and download)' });
    }
    const limit = Math.min(webgpu.maxBufferSize ?? Infinity, webgpu.maxStorageBufferBindingSize ?? Infinity);
    if (options.largestFileBytes !== undefined && limit < options.largestFileBytes) {
      warnings.push({
        code: 'webgpu-small-buffers',
        message: `WebGPU buffers are limited to ${mebibytes(limit)}, below the largest model file (${mebibytes(options.largestFileBytes)}): that graph may fail on WebGPU`,
      });
    }
  }
  if (!capabilities.crossOriginIsolated) {
    warnings.push({
      code: 'not-cross-origin-isolated',
      message: 'the page is not cross-origin isolated (COOP/COEP headers): wasm runs on a single thread',
    });
  }
  if (!capabilities.cacheApi) {
    warnings.push({ code: 'no-cache-api', message: 'the Cache API is missing (insecure context?): the model downloads again on every load' });
  }
  const { quota, usage } = capabilities.storage;
  if (options.downloadBytes !== undefined && quota !== undefined && quota - (usage ?? 0) < options.downloadBytes) {
    warnings.push({
      code: 'low-storage',
      message: `storage left for this site (${mebibytes(quota - (usage ?? 0))}) is less than the model (${mebibytes(options.downloadBytes)}): caching will fail`,
    });
  }
  return warnings;
}

/**
 * Probe what this page or worker can offer a model: WebGPU (adapter, shader-f16, buffer limits),
 * wasm SIMD and threads, the Cache API and storage quota. Nothing is thrown for a missing
 * feature; each becomes a warning with a code, for the application to show or act on.
 */
export async function probeBrowser(options: ProbeOptions = {}): Promise<BrowserCapabilities> {
  const scope = globalThis as { navigator?: NavigatorLike; crossOriginIsolated?: boolean; caches?: unknown };
  const navigator = scope.navigator;
  const crossOriginIsolated = scope.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
  const [webgpu, storage] = await Promise.all([probeWebgpu(navigator), estimateStorage().catch(() => ({}))]);
  const capabilities = {
    webgpu,
    crossOriginIsolated,
    // onnxruntime-web's own default: half the cores, at most 4, when threads are possible.
    wasmThreads: crossOriginIsolated ? Math.max(1, Math.min(4, Math.ceil((navigator?.hardwareConcurrency ?? 1) / 2))) : 1,
    wasmSimd: typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE),
    cacheApi: typeof scope.caches === 'object' && scope.caches !== null,
    storage,
    ...(typeof navigator?.deviceMemory === 'number' ? { deviceMemoryGiB: navigator.deviceMemory } : {}),
  };
  return { ...capabilities, warnings: warningsFor(capabilities, options) };
}
