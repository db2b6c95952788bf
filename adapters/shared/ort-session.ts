import type { BackendSession, Device, DeviceTensor, Feed, RunOptions } from '../../src/spec/backend.js';
import { DisposedError, InvalidInputError } from '../../src/errors/index.js';
import { toUniPicError } from './ort-error-mapping.js';
import type { OrtInferenceSession, OrtRuntime, OrtTensor } from './ort-runtime.js';
import { OrtDeviceTensor, hostTensorOf, isOnDevice, toOrtFeed } from './ort-tensors.js';
import type { SerialQueue } from '../../src/spec/serial-queue.js';

export interface OrtBackendSessionParts {
  readonly adapter: string;
  readonly graph: string;
  readonly device: Device;
  readonly runtime: OrtRuntime;
  readonly session: OrtInferenceSession;
  /** The backend; device tensors it made can be fed to any of its sessions. */
  readonly owner: object;
  /** Shared by every session of a WebGPU backend, one per session otherwise. */
  readonly queue: SerialQueue;
  /**
   * Always ask ORT for every output and drop the unrequested ones: onnxruntime-node's IO binding
   * keeps earlier output bindings, so a later run with fewer fetches fails ("Output count mismatch").
   */
  readonly fetchAllOutputs: boolean;
  /** Copies a device tensor to the host; called inside a queued job, never queues itself. */
  readonly downloadDeviceTensor: (tensor: OrtTensor) => Promise<unknown>;
  readonly onDisposed: () => void;
}

/** A `BackendSession` over an ORT `InferenceSession`, shared by node-ort and web-ort. */
export class OrtBackendSession implements BackendSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private disposed = false;
  private releasing: Promise<void> | undefined;

  constructor(private readonly parts: OrtBackendSessionParts) {
    this.inputNames = parts.session.inputNames.slice();
    this.outputNames = parts.session.outputNames.slice();
  }

  run(feeds: Readonly<Record<string, Feed>>, options: RunOptions = {}): Promise<Record<string, DeviceTensor>> {
    if (this.disposed) return Promise.reject(this.disposedError());
    let requested: readonly string[];
    try {
      requested = this.checkRun(feeds, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const keep = new Set(options.keepOnDevice ?? []);
    return this.parts.queue.enqueue(async () => {
      // A run queued before dispose() but not started yet must not touch the released session.
      if (this.disposed) throw this.disposedError();
      const { runtime, owner, graph, session } = this.parts;
      const ortFeeds: Record<string, OrtTensor> = {};
      for (const name of this.inputNames) ortFeeds[name] = await toOrtFeed(runtime, owner, graph, name, feeds[name]);
      const fetches = this.parts.fetchAllOutputs ? this.outputNames : requested;
      let results: Record<string, OrtTensor>;
      try {
        results = await session.run(ortFeeds, fetches);
      } catch (error) {
        throw toUniPicError(error, this.context('run'));
      }
      return this.collectOutputs(results, requested, keep);
    });
  }

  dispose(): Promise<void> {
    if (this.releasing) return this.releasing;
    this.disposed = true;
    // Queued behind any run in flight: releasing a native session under a running job crashes.
    this.releasing = this.parts.queue
      .enqueue(async () => {
        try {
          await this.parts.session.release();
        } catch (error) {
          throw toUniPicError(error, this.context('release'));
        }
      })
      .finally(() => this.parts.onDisposed());
    return this.releasing;
  }

  /** Validates names before queueing, so mistakes fail fast with the graph named. */
  private checkRun(feeds: Readonly<Record<string, Feed>>, options: RunOptions): readonly string[] {
    const { graph } = this.parts;
    const known = new Set(this.inputNames);
    const unknown = Object.keys(feeds).filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new InvalidInputError(`graph '${graph}' has no input ${unknown.map((name) => `'${name}'`).join(', ')}; its inputs are ${this.inputNames.join(', ')}`);
    }
    const missing = this.inputNames.filter((name) => feeds[name] === undefined);
    if (missing.length > 0) throw new InvalidInputError(`graph '${graph}' needs input ${missing.map((name) => `'${name}'`).join(', ')}`);
    const outputs = new Set(this.outputNames);
    const requested = options.outputs ?? this.outputNames;
    const badOutputs = requested.filter((name) => !outputs.has(name));
    if (badOutputs.length > 0 || requested.length === 0) {
      throw new InvalidInputError(`graph '${graph}' cannot fetch [${requested.join(', ')}]; its outputs are ${this.outputNames.join(', ')}`);
    }
    const badKeep = (options.keepOnDevice ?? []).filter((name) => !requested.includes(name));
    if (badKeep.length > 0) {
      throw new InvalidInputError(`graph '${graph}': keepOnDevice names ${badKeep.join(', ')}, which this run does not fetch`);
    }
    return requested;
  }

  /**
   * Wraps what ORT returned. Outputs on the device stay there only when asked; the rest are
   * copied home and their device buffers released at once. On any failure every device buffer
   * of this run is released, so nothing leaks.
   */
  private async collectOutputs(results: Record<string, OrtTensor>, requested: readonly string[], keep: ReadonlySet<string>): Promise<Record<string, DeviceTensor>> {
    const wanted = new Set(requested);
    const outputs: Record<string, DeviceTensor> = {};
    const pending = new Set(Object.values(results));
    try {
      for (const [name, tensor] of Object.entries(results)) {
        if (!wanted.has(name)) continue;
        if (!isOnDevice(tensor)) {
          outputs[name] = hostTensorOf(tensor);
        } else if (keep.has(name)) {
          outputs[name] = new OrtDeviceTensor(tensor, this.parts.owner, (own) => this.parts.queue.enqueue(() => this.download(own)));
        } else {
          outputs[name] = hostTensorOf(tensor, await this.download(tensor));
          tensor.dispose();
        }
        pending.delete(tensor);
      }
    } catch (error) {
      for (const output of Object.values(outputs)) output.dispose();
      for (const tensor of pending) if (isOnDevice(tensor)) tensor.dispose();
      throw toUniPicError(error, this.context('download'));
    }
    // Outputs fetched only because of `fetchAllOutputs` are not the caller's to free.
    for (const tensor of pending) if (isOnDevice(tensor)) tensor.dispose();
    return outputs;
  }

  private async download(tensor: OrtTensor): Promise<unknown> {
    try {
      return await this.parts.downloadDeviceTensor(tensor);
    } catch (error) {
      throw toUniPicError(error, this.context('download'));
    }
  }

  private context(phase: 'run' | 'download' | 'release') {
    return { adapter: this.parts.adapter, phase, graph: this.parts.graph, device: this.parts.device } as const;
  }

  private disposedError(): DisposedError {
    return new DisposedError(`${this.parts.adapter}: the session of graph '${this.parts.graph}' was disposed`);
  }
}
