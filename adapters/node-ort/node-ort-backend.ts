import { readFile } from 'node:fs/promises';
import type { BackendInfo, BackendInitOptions, GraphSource, SessionOptions } from '../../src/spec/backend.js';
import type { DeviceAttempt } from '../../src/errors/index.js';
import { OrtBackend, type DeviceReport, type ModelInput, type PreparedRuntime } from '../shared/ort-backend.js';
import type { RuntimeImporter } from '../shared/load-runtime.js';
import type { OrtRuntime, OrtSessionOptions, OrtTensor } from '../shared/ort-runtime.js';
import { describeError } from '../shared/ort-error-mapping.js';
import { parseExtra } from '../shared/parse-extra.js';
import { probeFloat16 } from '../shared/probes.js';
import { explainCudaFailure, missingCudaProvider } from './cuda-diagnosis.js';
import { queryCudaMemory, type CudaMemoryQueryOptions } from './cuda-memory.js';
import { missingVulkanDriver } from './vulkan-drivers.js';
import { IdentityDownloader } from './identity-downloader.js';
import { loadOnnxruntimeNode } from './load-onnxruntime-node.js';
import { NODE_ORT_DEVICES, nodeOrtInitExtraSchema, nodeOrtSessionExtraSchema, type NodeOrtDevice, type NodeOrtInitExtra } from './node-ort-options.js';

export interface NodeOrtBackendOptions {
  /** How to import onnxruntime-node; tests inject failures here. Default: `import('onnxruntime-node')`. */
  readonly importRuntime?: RuntimeImporter;
  /**
   * How CUDA's memory is asked of `nvidia-smi` once at init (`limits.deviceMemoryBytes`): another
   * executable (tests use a fake one) or timeout.
   */
  readonly cudaMemory?: CudaMemoryQueryOptions;
}

/** onnxruntime-node's own names for its execution providers. */
type SupportedBackend = { name: string; bundled: boolean };

/**
 * The Node backend on onnxruntime-node: CUDA, WebGPU (Dawn, bundled) or CPU. Models load by file
 * path, so ORT maps the weights itself and finds `.data` files beside the graph.
 */
export class NodeOrtBackend extends OrtBackend<NodeOrtDevice> {
  readonly name = 'node-ort';
  protected readonly offeredDevices = NODE_ORT_DEVICES;
  private initExtra: NodeOrtInitExtra = {};
  private supported: readonly SupportedBackend[] | undefined;
  private downloader: IdentityDownloader | undefined;

  constructor(private readonly options: NodeOrtBackendOptions = {}) {
    super();
  }

  protected async prepareRuntime(options: BackendInitOptions): Promise<PreparedRuntime<NodeOrtDevice>> {
    this.initExtra = parseExtra(this.name, 'init', nodeOrtInitExtraSchema, options.extra);
    const runtime = await loadOnnxruntimeNode(this.options.importRuntime);
    const listing = (runtime as { listSupportedBackends?: () => SupportedBackend[] }).listSupportedBackends;
    this.supported = typeof listing === 'function' ? listing() : undefined;
    return { runtime, autoOrder: this.initExtra.autoOrder ?? NODE_ORT_DEVICES };
  }

  protected executionProviders(device: NodeOrtDevice): unknown[] {
    if (device === 'cuda') return [{ name: 'cuda', deviceId: this.initExtra.deviceId ?? 0 }];
    return [device];
  }

  protected override unavailableReason(device: NodeOrtDevice): string | undefined {
    if (this.supported && !this.supported.some((backend) => backend.name === device)) {
      return `this onnxruntime-node build has no ${device} execution provider (it lists ${this.supported.map((backend) => backend.name).join(', ')})`;
    }
    // Only for the real package: an injected runtime (tests) has no files to look at.
    if (device === 'cuda' && !this.options.importRuntime) return missingCudaProvider();
    if (device === 'webgpu' && !this.options.importRuntime) return missingVulkanDriver();
    return undefined;
  }

  protected override explainProbeFailure(device: NodeOrtDevice, error: unknown): string {
    const message = describeError(error);
    return device === 'cuda' ? explainCudaFailure(message) : message;
  }

  protected sessionOptions(_device: NodeOrtDevice, options: SessionOptions): OrtSessionOptions {
    const { configEntries, ...extra } = parseExtra(this.name, 'session', nodeOrtSessionExtraSchema, options.extra);
    return {
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      ...(options.threads !== undefined ? { intraOpNumThreads: options.threads } : {}),
      ...(options.keepWorkingMemory === false ? { enableCpuMemArena: false } : {}),
      ...extra,
      // The binding turns each key into a session config entry. The SDK runs several sessions in
      // turn (embed → llm → lm_head per token; four MAR graphs per iteration), and ORT's default
      // lets a session's idle intra-op threads spin after its run, taking the cores the next
      // session needs (the q4 decode gain is in docs/performance.md, "Thread spinning").
      extra: { 'session.intra_op.allow_spinning': '0', ...configEntries },
    };
  }

  /**
   * A path goes to ORT as is (it resolves `.data` beside the graph). External data given as a
   * path string is read here: the Node binding takes only bytes for `externalData`.
   */
  protected async modelInput(graph: GraphSource): Promise<ModelInput> {
    const model = graph.path ?? (graph.bytes as Uint8Array);
    if (!graph.externalData?.length) return { model };
    const externalData = await Promise.all(
      graph.externalData.map(async ({ path, data }) => ({ path, data: typeof data === 'string' ? new Uint8Array(await readFile(data)) : data })),
    );
    return { model, externalData };
  }

  /**
   * Only WebGPU: the binding's 'gpu-buffer' output location binds WebGPU memory, so CUDA outputs
   * always come back to the CPU (there is no CUDA IO binding in onnxruntime-node 1.30).
   */
  protected keepsOutputsOnDevice(device: NodeOrtDevice): boolean {
    return device === 'webgpu' && this.initExtra.ioBinding !== false;
  }

  protected override fetchesAllOutputs(device: NodeOrtDevice): boolean {
    return this.keepsOutputsOnDevice(device);
  }

  protected downloadDeviceTensor(tensor: OrtTensor): Promise<unknown> {
    this.downloader ??= new IdentityDownloader(this.runtime, this.executionProviders('webgpu'));
    return this.downloader.download(tensor);
  }

  protected async describeDevice(
    device: NodeOrtDevice,
    runtime: OrtRuntime,
    failed: readonly DeviceAttempt[],
    autoOrder: readonly NodeOrtDevice[],
  ): Promise<DeviceReport<NodeOrtDevice>> {
    // The CPU EP has float16 kernels for only part of the ops; fp16 graphs are not advised there.
    const fp16 = device === 'cpu' ? false : await probeFloat16(runtime, this.executionProviders(device));
    // Listed: the device in use, and untried devices whose provider ships inside the package
    // (cpu, webgpu); a device that failed is never listed, and CUDA only once it has worked.
    const failedDevices = new Set(failed.map((attempt) => attempt.device));
    const bundled = (candidate: NodeOrtDevice) =>
      this.supported ? this.supported.some((backend) => backend.name === candidate && backend.bundled) : candidate === 'cpu';
    const availableDevices = NODE_ORT_DEVICES.filter(
      (candidate) => candidate === device || (autoOrder.includes(candidate) && !failedDevices.has(candidate) && bundled(candidate)),
    );
    return { fp16, limits: await this.memoryLimits(device), availableDevices };
  }

  /**
   * The chosen GPU's total and free memory. WebGPU (Dawn inside the binding) exposes no adapter to
   * JavaScript, so neither its memory nor its buffer limits; the CPU is left unchecked (ORT maps
   * external weights from disk).
   */
  private async memoryLimits(device: NodeOrtDevice): Promise<BackendInfo['limits']> {
    if (device === 'webgpu') return { deviceMemoryUnknown: 'WebGPU does not report device memory (onnxruntime-node exposes no adapter limits either)' };
    if (device !== 'cuda') return {};
    const answer = await queryCudaMemory(this.initExtra.deviceId ?? 0, this.options.cudaMemory);
    if ('unknown' in answer) return { deviceMemoryUnknown: answer.unknown };
    return { deviceMemoryBytes: answer.memory.totalBytes, deviceFreeMemoryBytes: answer.memory.freeBytes };
  }

  protected override async releaseInternals(): Promise<void> {
    const downloader = this.downloader;
    this.downloader = undefined;
    await downloader?.release();
  }
}
