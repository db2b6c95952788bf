import {
  BACKEND_SPECIFICATION_VERSION,
  type Backend,
  type BackendInfo,
  type BackendInitOptions,
  type BackendSession,
  type Device,
  type GraphSource,
  type SessionOptions,
} from '../../src/spec/backend.js';
import { BackendUnavailableError, DisposedError, InvalidOptionsError, type DeviceAttempt } from '../../src/errors/index.js';
import { resolveDevice } from './device-resolution.js';
import { describeError, toUniPicError } from './ort-error-mapping.js';
import type { OrtRuntime, OrtSessionOptions, OrtTensor } from './ort-runtime.js';
import { OrtBackendSession } from './ort-session.js';
import { probeDevice } from './probes.js';
import { SerialQueue } from '../../src/spec/serial-queue.js';

/** What an adapter learned about its runtime in `prepareRuntime`. */
export interface PreparedRuntime<D extends Device> {
  readonly runtime: OrtRuntime;
  /** The order `auto` tries. */
  readonly autoOrder: readonly D[];
}

export interface DeviceReport<D extends Device> {
  readonly fp16: boolean;
  readonly limits: BackendInfo['limits'];
  readonly availableDevices: readonly D[];
}

/** What the adapter hands ORT to build a session. */
export interface ModelInput {
  readonly model: string | Uint8Array;
  readonly externalData?: ReadonlyArray<{ readonly path: string; readonly data: Uint8Array | string }>;
}

/**
 * Everything node-ort and web-ort share: device resolution, the session registry, run queues,
 * disposal. Each adapter supplies how to load its ORT package and what options its runtime takes.
 */
export abstract class OrtBackend<D extends Device> implements Backend {
  readonly specificationVersion = BACKEND_SPECIFICATION_VERSION;
  abstract readonly name: string;
  /** Every device the adapter can ever use, in its default `auto` order. */
  protected abstract readonly offeredDevices: readonly D[];

  private prepared: PreparedRuntime<D> | undefined;
  private resolved: { device: D } | undefined;
  private initializing: Promise<BackendInfo> | undefined;
  private disposed = false;
  private readonly sessions = new Set<OrtBackendSession>();
  /** WebGPU serializes runs across every session of the device, not only within one. */
  private readonly deviceQueue = new SerialQueue();
  protected warn: BackendInitOptions['onWarning'];

  /** Loads the ORT package and applies init-level `extra` (validated). */
  protected abstract prepareRuntime(options: BackendInitOptions): Promise<PreparedRuntime<D>>;
  /** The `executionProviders` entry selecting `device`. */
  protected abstract executionProviders(device: D): unknown[];
  /** A reason `device` cannot work without trying it (not in this build...), else undefined. */
  protected unavailableReason(_device: D, _runtime: OrtRuntime): string | undefined {
    return undefined;
  }
  /** The attempt's error text; adapters add what ORT's terse message leaves out. */
  protected explainProbeFailure(_device: D, error: unknown): string {
    return describeError(error);
  }
  /** Runtime-specific session options, `extra` validated; EPs and output placement are added here. */
  protected abstract sessionOptions(device: D, options: SessionOptions): OrtSessionOptions;
  protected abstract modelInput(graph: GraphSource): Promise<ModelInput>;
  /** Whether sessions on `device` leave outputs on the device (IO binding). */
  protected abstract keepsOutputsOnDevice(device: D): boolean;
  protected fetchesAllOutputs(_device: D): boolean {
    return false;
  }
  /** Copies one device tensor home; called from inside a queued job. */
  protected abstract downloadDeviceTensor(tensor: OrtTensor): Promise<unknown>;
  protected abstract describeDevice(device: D, runtime: OrtRuntime, failed: readonly DeviceAttempt[], autoOrder: readonly D[]): Promise<DeviceReport<D>>;
  /** Releases anything the adapter created for itself (helper sessions). */
  protected async releaseInternals(): Promise<void> {}

  get liveSessions(): number {
    return this.sessions.size;
  }

  /** The chosen device; undefined before `init()`. */
  get device(): D | undefined {
    return this.resolved?.device;
  }

  /** Resolves the device once; after a success, later calls return the same info whatever they ask. */
  init(options: BackendInitOptions = {}): Promise<BackendInfo> {
    if (this.disposed) return Promise.reject(this.disposedError());
    // A failed init may be retried (say with another device); a successful one is final.
    this.initializing ??= this.initialize(options).catch((error: unknown) => {
      this.initializing = undefined;
      throw error;
    });
    return this.initializing;
  }

  async createSession(graph: GraphSource, options: SessionOptions = {}): Promise<BackendSession> {
    if (this.disposed) throw this.disposedError();
    if (!this.resolved || !this.prepared) {
      throw new BackendUnavailableError(`${this.name}: call init() before createSession()`, { details: { attempts: [] } });
    }
    checkGraphSource(this.name, graph);
    if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads > 0)) {
      throw new InvalidOptionsError(`${this.name}: threads must be a positive integer, got ${options.threads}`, {
        details: { issues: [{ path: 'threads', message: 'must be a positive integer' }] },
      });
    }
    const { device } = this.resolved;
    const { runtime } = this.prepared;
    const ortOptions: OrtSessionOptions = {
      ...this.sessionOptions(device, options),
      executionProviders: this.executionProviders(device),
      ...(this.keepsOutputsOnDevice(device) ? { preferredOutputLocation: 'gpu-buffer' } : {}),
    };
    const context = { adapter: this.name, phase: 'create-session', graph: graph.name, device } as const;
    let session;
    try {
      const input = await this.modelInput(graph);
      session = await runtime.InferenceSession.create(input.model, {
        ...ortOptions,
        ...(input.externalData ? { externalData: input.externalData } : {}),
      });
    } catch (error) {
      throw toUniPicError(error, context);
    }
    if (this.disposed) {
      // dispose() ran while ORT was building this session: release it; the DisposedError is what
      // the caller needs to see, not a failure of this clean-up.
      await session.release().catch(() => undefined);
      throw this.disposedError();
    }
    const wrapped: OrtBackendSession = new OrtBackendSession({
      adapter: this.name,
      graph: graph.name,
      device,
      runtime,
      session,
      owner: this,
      queue: device === 'webgpu' ? this.deviceQueue : new SerialQueue(),
      fetchAllOutputs: this.fetchesAllOutputs(device),
      downloadDeviceTensor: (tensor) => this.downloadDeviceTensor(tensor),
      onDisposed: () => this.sessions.delete(wrapped),
    });
    this.sessions.add(wrapped);
    return wrapped;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const results = await Promise.allSettled([...this.sessions].map((session) => session.dispose()));
    results.push(...(await Promise.allSettled([this.releaseInternals()])));
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) throw failure.reason;
  }

  /** The prepared runtime; only valid after a successful `init()`. */
  protected get runtime(): OrtRuntime {
    if (!this.prepared) throw new BackendUnavailableError(`${this.name}: call init() first`, { details: { attempts: [] } });
    return this.prepared.runtime;
  }

  private async initialize(options: BackendInitOptions): Promise<BackendInfo> {
    this.warn = options.onWarning;
    const prepared = await this.prepareRuntime(options);
    this.prepared = prepared;
    const { runtime, autoOrder } = prepared;
    const { device, failed } = await resolveDevice({
      adapter: this.name,
      request: options.device ?? 'auto',
      offered: this.offeredDevices,
      autoOrder,
      onWarning: options.onWarning,
      probe: async (candidate) => {
        const reason = this.unavailableReason(candidate, runtime);
        if (reason) throw new Error(reason);
        try {
          await probeDevice(runtime, this.executionProviders(candidate));
        } catch (error) {
          throw new Error(this.explainProbeFailure(candidate, error), { cause: error });
        }
      },
    });
    const report = await this.describeDevice(device, runtime, failed, autoOrder);
    this.resolved = { device };
    return { name: this.name, device, availableDevices: report.availableDevices, fp16: report.fp16, limits: report.limits };
  }

  private disposedError(): DisposedError {
    return new DisposedError(`${this.name}: the backend was disposed`);
  }
}

function checkGraphSource(adapter: string, graph: GraphSource): void {
  const sources = (graph.path !== undefined ? 1 : 0) + (graph.bytes !== undefined ? 1 : 0);
  if (typeof graph.name !== 'string' || graph.name === '' || sources !== 1) {
    throw new InvalidOptionsError(`${adapter}: a graph needs a name and exactly one of path / bytes`, {
      details: { issues: [{ path: 'graph', message: 'needs a name and exactly one of path / bytes' }] },
    });
  }
}
