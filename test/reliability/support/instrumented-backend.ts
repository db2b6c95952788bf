import type {
  Backend,
  BackendInfo,
  BackendInitOptions,
  BackendSession,
  DeviceTensor,
  Feed,
  GraphSource,
  HostTensor,
  RunOptions,
  SessionOptions,
} from '../../../src/spec/backend.js';
import { wrapBackend, type WrappedRun } from '../../../src/spec/wrap-backend.js';

/** Which run a hook is looking at: the backend-wide call number and the graph's own count (1-based). */
export interface RunContext {
  readonly graph: string;
  readonly call: number;
  readonly ofGraph: number;
}

/** Rewrites one output's host data as the caller will see it (NaN injection). */
export type OutputRewrite = (host: HostTensor) => HostTensor;

export interface InstrumentHooks {
  /** Before the inner run starts: throw to fail the run, await to slow it, abort a controller... */
  beforeRun?(context: RunContext): void | Promise<void>;
  /** After the inner run: return rewrites for some outputs (by name) to corrupt what the core reads. */
  afterRun?(context: RunContext, outputNames: readonly string[]): Readonly<Record<string, OutputRewrite>> | void;
  /** Before the inner session is created: throw to fail it, await to slow it. */
  beforeCreateSession?(graph: string): void | Promise<void>;
}

/**
 * A real adapter wrapped with the backend middleware (`wrapBackend`): the real graphs compute,
 * while the tests count what the core leaves alive (sessions, output tensors), see every run in
 * order, and inject the faults a real runtime cannot be made to produce on demand (a NaN in one
 * output, a failing n-th run, a slow run, a failing session).
 */
export class InstrumentedBackend implements Backend {
  readonly specificationVersion: Backend['specificationVersion'];
  readonly name: string;
  hooks: InstrumentHooks = {};
  /** Every run started, in order. */
  readonly runs: RunContext[] = [];
  private readonly liveOutputs = new Set<CountingTensor>();
  private readonly perGraph = new Map<string, number>();
  private inFlight = 0;
  private mostInFlight = 0;
  private readonly wrapped: Backend;
  sessionsCreated = 0;

  constructor(readonly inner: Backend) {
    this.specificationVersion = inner.specificationVersion;
    this.wrapped = wrapBackend(inner, {
      name: 'instrumented',
      wrapCreateSession: async ({ graph, createSession }) => {
        await this.hooks.beforeCreateSession?.(graph.name);
        const session = await createSession();
        this.sessionsCreated++;
        return session;
      },
      wrapRun: ({ graph, feeds, options, run }) => this.run(graph, feeds, options, run),
    });
    this.name = this.wrapped.name;
  }

  /** Sessions created and not disposed (the adapter's own count). */
  get liveSessions(): number {
    return this.inner.liveSessions;
  }

  /** Outputs handed to the core and not yet disposed by it. */
  get liveTensors(): number {
    return this.liveOutputs.size;
  }

  /** Graph names of the live outputs (what leaked, for a readable failure). */
  liveTensorGraphs(): string[] {
    return [...this.liveOutputs].map((tensor) => `${tensor.graph}.${tensor.output}`);
  }

  get runsInFlight(): number {
    return this.inFlight;
  }

  get maxRunsInFlight(): number {
    return this.mostInFlight;
  }

  runsOf(graph: string): number {
    return this.perGraph.get(graph) ?? 0;
  }

  init(options?: BackendInitOptions): Promise<BackendInfo> {
    return this.wrapped.init(options);
  }

  createSession(graph: GraphSource, options?: SessionOptions): Promise<BackendSession> {
    return this.wrapped.createSession(graph, options);
  }

  dispose(): Promise<void> {
    return this.wrapped.dispose();
  }

  private async run(
    graph: string,
    feeds: Readonly<Record<string, Feed>>,
    options: RunOptions | undefined,
    run: WrappedRun['run'],
  ): Promise<Record<string, DeviceTensor>> {
    const ofGraph = (this.perGraph.get(graph) ?? 0) + 1;
    this.perGraph.set(graph, ofGraph);
    const context: RunContext = { graph, call: this.runs.length + 1, ofGraph };
    this.runs.push(context);
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    try {
      await this.hooks.beforeRun?.(context);
      const innerFeeds: Record<string, Feed> = {};
      for (const [name, feed] of Object.entries(feeds)) innerFeeds[name] = feed instanceof CountingTensor ? await feed.asFeed() : feed;
      const outputs = await run(innerFeeds, options);
      const rewrites = this.hooks.afterRun?.(context, Object.keys(outputs)) ?? {};
      const wrapped: Record<string, DeviceTensor> = {};
      for (const [name, tensor] of Object.entries(outputs)) wrapped[name] = new CountingTensor(graph, name, tensor, rewrites[name], this.liveOutputs);
      return wrapped;
    } finally {
      this.inFlight--;
    }
  }
}

class CountingTensor implements DeviceTensor {
  readonly type: DeviceTensor['type'];
  readonly dims: readonly number[];
  readonly location: DeviceTensor['location'];
  private disposed = false;

  constructor(
    readonly graph: string,
    readonly output: string,
    private readonly inner: DeviceTensor,
    private readonly rewrite: OutputRewrite | undefined,
    private readonly ledger: Set<CountingTensor>,
  ) {
    this.type = inner.type;
    this.dims = inner.dims;
    this.location = inner.location;
    ledger.add(this);
  }

  async download(): Promise<HostTensor> {
    if (this.disposed) throw new Error(`${this.graph}.${this.output} was read after the core disposed it`);
    const host = await this.inner.download();
    return this.rewrite ? this.rewrite(host) : host;
  }

  /** What to hand the inner session when the core feeds this tensor back (a rewritten one as host data). */
  async asFeed(): Promise<Feed> {
    if (this.disposed) throw new Error(`${this.graph}.${this.output} was fed after the core disposed it`);
    return this.rewrite ? this.download() : this.inner;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.ledger.delete(this);
    this.inner.dispose();
  }
}

/** A rewrite putting `value` (NaN, ±Infinity) at element `index` of a float32 output, on a copy. */
export function poison(value: number, index = 0): OutputRewrite {
  return (host) => {
    if (!(host.data instanceof Float32Array)) throw new Error(`cannot poison a ${host.type} output`);
    const data = host.data.slice();
    data[Math.min(index, data.length - 1)] = value;
    return { type: host.type, dims: host.dims, data };
  };
}
