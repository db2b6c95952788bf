import {
  BACKEND_SPECIFICATION_VERSION,
  type Backend,
  type BackendInfo,
  type BackendInitOptions,
  type BackendSession,
  type Device,
  type GraphSource,
  type HostTensor,
  type RunOptions,
  type SessionOptions,
} from '../spec/backend.js';
import { BackendUnavailableError, DisposedError, InvalidModelError, OrtRuntimeError } from '../errors/index.js';
import { resolveDevice } from '../../adapters/shared/device-resolution.js';
import { MockSession, type MockGraphDefinition, type MockGraphFunction, type MockSessionHost } from './mock-session.js';
import type { MockTensor } from './mock-tensor.js';

/** Make the n-th run fail: of `graph` when given, else of the whole backend (1-based, once). */
export interface MockRunFailure {
  readonly run: number;
  readonly graph?: string;
  /** Thrown as is; default an `OrtRuntimeError`. */
  readonly error?: unknown;
}

export type MockRunDelay = number | ((graph: string, call: number) => number);

export interface MockBackendOptions {
  readonly name?: string;
  readonly graphs?: Readonly<Record<string, MockGraphFunction | MockGraphDefinition>>;
  /** Devices in `auto` order, all offered (default `['cpu']`). */
  readonly devices?: readonly Device[];
  /** Devices whose init probe fails, with the reason. */
  readonly failDevices?: Readonly<Partial<Record<Device, string>>>;
  /** `createSession` of these graphs throws the given error. */
  readonly failSessions?: Readonly<Record<string, unknown>>;
  readonly failRuns?: readonly MockRunFailure[];
  /** Milliseconds every run waits before computing (to test abort and queueing). */
  readonly runDelayMs?: MockRunDelay;
  readonly fp16?: boolean;
  readonly limits?: BackendInfo['limits'];
}

export interface MockRunRecord {
  /** 1-based, in start order across the backend. */
  readonly call: number;
  readonly graph: string;
  readonly session: number;
  readonly feeds: Readonly<Record<string, HostTensor>>;
  readonly options: RunOptions;
}

export interface MockSessionRecord {
  readonly id: number;
  readonly graph: GraphSource;
  readonly options: SessionOptions;
}

/**
 * A `Backend` that runs JS functions instead of graphs, for fast core tests: it records every
 * call, counts live sessions and tensors, and injects failures (a device at init, the n-th run,
 * a session) and delays. Semantics follow the ORT adapters: device resolution and fallback
 * warnings are the same code, runs on one session are serialized, disposal waits for a run.
 */
export class MockBackend implements Backend {
  readonly specificationVersion = BACKEND_SPECIFICATION_VERSION;
  readonly name: string;
  readonly initCalls: BackendInitOptions[] = [];
  readonly sessionsCreated: MockSessionRecord[] = [];
  readonly calls: MockRunRecord[] = [];
  private readonly graphs = new Map<string, MockGraphDefinition>();
  private readonly sessions = new Set<MockSession>();
  private readonly tensors = new Set<MockTensor>();
  private readonly failures: MockRunFailure[];
  private readonly runsPerGraph = new Map<string, number>();
  private runDelay: MockRunDelay;
  private paused: { promise: Promise<void>; resume: () => void } | undefined;
  private info: BackendInfo | undefined;
  private disposed = false;
  private nextSessionId = 1;
  private inFlight = 0;
  private mostInFlight = 0;

  constructor(private readonly options: MockBackendOptions = {}) {
    this.name = options.name ?? 'mock';
    for (const [name, graph] of Object.entries(options.graphs ?? {})) this.addGraph(name, graph);
    this.failures = [...(options.failRuns ?? [])];
    this.runDelay = options.runDelayMs ?? 0;
  }

  get liveSessions(): number {
    return this.sessions.size;
  }

  /** Output tensors not yet disposed. */
  get liveTensors(): number {
    return this.tensors.size;
  }

  /** Outputs kept on the "device" (`keepOnDevice`) not yet disposed. */
  get liveDeviceTensors(): number {
    return [...this.tensors].filter((tensor) => tensor.location === 'device').length;
  }

  get runsInFlight(): number {
    return this.inFlight;
  }

  /** The most runs ever in flight at once, across all sessions. */
  get maxRunsInFlight(): number {
    return this.mostInFlight;
  }

  addGraph(name: string, graph: MockGraphFunction | MockGraphDefinition): this {
    this.graphs.set(name, typeof graph === 'function' ? { run: graph } : graph);
    return this;
  }

  failRun(failure: MockRunFailure): this {
    this.failures.push(failure);
    return this;
  }

  setRunDelay(delay: MockRunDelay): this {
    this.runDelay = delay;
    return this;
  }

  /** Holds every run that starts from now on until the returned function is called. */
  pause(): () => void {
    if (!this.paused) {
      let resume = () => {};
      const promise = new Promise<void>((resolve) => (resume = resolve));
      this.paused = { promise, resume };
    }
    const gate = this.paused;
    return () => {
      if (this.paused === gate) this.paused = undefined;
      gate.resume();
    };
  }

  async init(options: BackendInitOptions = {}): Promise<BackendInfo> {
    if (this.disposed) throw new DisposedError(`${this.name}: the backend was disposed`);
    this.initCalls.push(options);
    if (this.info) return this.info;
    const devices = this.options.devices ?? ['cpu'];
    const failDevices = this.options.failDevices ?? {};
    const { device, failed } = await resolveDevice({
      adapter: this.name,
      request: options.device ?? 'auto',
      offered: devices,
      autoOrder: devices,
      onWarning: options.onWarning,
      probe: async (candidate) => {
        const reason = failDevices[candidate];
        if (reason !== undefined) throw new Error(reason);
      },
    });
    const failedDevices = new Set(failed.map((attempt) => attempt.device));
    this.info = {
      name: this.name,
      device,
      availableDevices: devices.filter((candidate) => !failedDevices.has(candidate) && failDevices[candidate] === undefined),
      fp16: this.options.fp16 ?? false,
      limits: this.options.limits ?? {},
    };
    return this.info;
  }

  async createSession(graph: GraphSource, options: SessionOptions = {}): Promise<BackendSession> {
    if (this.disposed) throw new DisposedError(`${this.name}: the backend was disposed`);
    if (!this.info) throw new BackendUnavailableError(`${this.name}: call init() before createSession()`, { details: { attempts: [] } });
    const injected = this.options.failSessions?.[graph.name];
    if (injected !== undefined) throw injected;
    const definition = this.graphs.get(graph.name);
    if (!definition) {
      throw new InvalidModelError(`${this.name}: no graph named '${graph.name}' (registered: ${[...this.graphs.keys()].join(', ') || 'none'})`, {
        details: { graph: graph.name },
      });
    }
    const session = new MockSession(this.nextSessionId++, graph.name, definition, this.sessionHost());
    this.sessionsCreated.push({ id: session.id, graph, options });
    this.sessions.add(session);
    return session;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all([...this.sessions].map((session) => session.dispose()));
  }

  /** The calls a session makes back; kept off the public surface. */
  private sessionHost(): MockSessionHost {
    return {
      tensorCreated: (tensor) => this.tensors.add(tensor),
      tensorDisposed: (tensor) => this.tensors.delete(tensor),
      sessionDisposed: (session) => this.sessions.delete(session),
      endRun: () => {
        this.inFlight--;
      },
      beginRun: async (session, feeds, options) => {
        const graph = session.graph;
        const call = this.calls.length + 1;
        const ofGraph = (this.runsPerGraph.get(graph) ?? 0) + 1;
        this.runsPerGraph.set(graph, ofGraph);
        this.calls.push({ call, graph, session: session.id, feeds, options });
        this.inFlight++;
        this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
        try {
          const delay = typeof this.runDelay === 'function' ? this.runDelay(graph, call) : this.runDelay;
          if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
          if (this.paused) await this.paused.promise;
          this.throwInjectedFailure(graph, call, ofGraph);
        } catch (error) {
          this.inFlight--;
          throw error;
        }
        return call;
      },
    };
  }

  private throwInjectedFailure(graph: string, call: number, ofGraph: number): void {
    const index = this.failures.findIndex((failure) => (failure.graph === undefined ? failure.run === call : failure.graph === graph && failure.run === ofGraph));
    if (index < 0) return;
    const [failure] = this.failures.splice(index, 1);
    throw failure.error ?? new OrtRuntimeError(`${this.name}: injected failure of run ${call} (graph '${graph}')`);
  }
}
