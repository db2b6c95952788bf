import type { BackendSession, DeviceTensor, Feed, HostTensor, RunOptions } from '../spec/backend.js';
import { DisposedError, InvalidInputError, OrtRuntimeError } from '../errors/index.js';
import { checkHostTensor, isDeviceTensor } from '../spec/host-tensor.js';
import { SerialQueue } from '../spec/serial-queue.js';
import { MockTensor, type MockTensorLedger } from './mock-tensor.js';

export interface MockRunContext {
  readonly graph: string;
  /** 1-based number of this run among all runs of the backend. */
  readonly call: number;
  readonly options: RunOptions;
}

/** Computes a graph's outputs from host copies of its feeds. */
export type MockGraphFunction = (feeds: Record<string, HostTensor>, context: MockRunContext) => Record<string, HostTensor> | Promise<Record<string, HostTensor>>;

export interface MockGraphDefinition {
  /** Declared names are checked like a real session checks them; undeclared means anything goes. */
  readonly inputs?: readonly string[];
  readonly outputs?: readonly string[];
  readonly run: MockGraphFunction;
}

/** What the session needs from its backend. */
export interface MockSessionHost extends MockTensorLedger {
  /** Called as a run starts; returns the run's number, after any injected delay, pause or failure. */
  beginRun(session: MockSession, feeds: Record<string, HostTensor>, options: RunOptions): Promise<number>;
  endRun(): void;
  sessionDisposed(session: MockSession): void;
}

/** A mock session: runs one at a time, like ORT sessions behind the real adapters. */
export class MockSession implements BackendSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private readonly queue = new SerialQueue();
  private disposed = false;
  private releasing: Promise<void> | undefined;

  constructor(
    readonly id: number,
    readonly graph: string,
    private readonly definition: MockGraphDefinition,
    private readonly host: MockSessionHost,
  ) {
    this.inputNames = definition.inputs?.slice() ?? [];
    this.outputNames = definition.outputs?.slice() ?? [];
  }

  run(feeds: Readonly<Record<string, Feed>>, options: RunOptions = {}): Promise<Record<string, DeviceTensor>> {
    if (this.disposed) return Promise.reject(this.disposedError());
    try {
      this.checkNames(feeds, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.queue.enqueue(async () => {
      if (this.disposed) throw this.disposedError();
      const hostFeeds: Record<string, HostTensor> = {};
      for (const [name, feed] of Object.entries(feeds)) hostFeeds[name] = await this.hostFeed(name, feed);
      const call = await this.host.beginRun(this, hostFeeds, options);
      try {
        const results = await this.definition.run(hostFeeds, { graph: this.graph, call, options });
        return this.wrapOutputs(results, options);
      } finally {
        this.host.endRun();
      }
    });
  }

  dispose(): Promise<void> {
    this.releasing ??= (async () => {
      this.disposed = true;
      await this.queue.idle();
      this.host.sessionDisposed(this);
    })();
    return this.releasing;
  }

  private async hostFeed(name: string, feed: Feed): Promise<HostTensor> {
    const host = feed instanceof MockTensor ? feed.host() : isDeviceTensor(feed) ? await feed.download() : feed;
    checkHostTensor(this.graph, name, host);
    return host;
  }

  private checkNames(feeds: Readonly<Record<string, Feed>>, options: RunOptions): void {
    const { inputs, outputs } = this.definition;
    if (inputs) {
      const unknown = Object.keys(feeds).filter((name) => !inputs.includes(name));
      const missing = inputs.filter((name) => feeds[name] === undefined);
      if (unknown.length > 0 || missing.length > 0) {
        throw new InvalidInputError(`mock graph '${this.graph}': unknown inputs [${unknown.join(', ')}], missing inputs [${missing.join(', ')}]`);
      }
    }
    const requested = options.outputs ?? outputs;
    if (outputs && options.outputs) {
      const bad = options.outputs.filter((name) => !outputs.includes(name));
      if (bad.length > 0) throw new InvalidInputError(`mock graph '${this.graph}' has no output ${bad.join(', ')}`);
    }
    const badKeep = (options.keepOnDevice ?? []).filter((name) => requested !== undefined && !requested.includes(name));
    if (badKeep.length > 0) throw new InvalidInputError(`mock graph '${this.graph}': keepOnDevice names ${badKeep.join(', ')}, which this run does not fetch`);
  }

  private wrapOutputs(results: Record<string, HostTensor>, options: RunOptions): Record<string, DeviceTensor> {
    const requested = options.outputs ?? this.definition.outputs ?? Object.keys(results);
    const keep = new Set(options.keepOnDevice ?? []);
    for (const name of requested) {
      if (results[name] === undefined) {
        throw new OrtRuntimeError(`mock graph '${this.graph}' returned no output '${name}' (it returned ${Object.keys(results).join(', ')})`);
      }
      checkHostTensor(this.graph, name, results[name], 'output');
    }
    const outputs: Record<string, DeviceTensor> = {};
    for (const name of requested) outputs[name] = new MockTensor(results[name], keep.has(name) ? 'device' : 'cpu', this.host);
    return outputs;
  }

  private disposedError(): DisposedError {
    return new DisposedError(`mock: the session of graph '${this.graph}' was disposed`);
  }
}
