import { NumericError } from '../../errors/numeric-error.js';
import { throwIfAborted } from '../../errors/abort-error.js';
import type { BackendSession, DeviceTensor, Feed } from '../../spec/backend.js';
import type { GraphContract, GraphFeeds, GraphOutputs, OutputName } from '../../spec/graph-contract.js';
import type { GraphName } from '../../spec/manifest.js';
import { createYielder } from '../run/yield-to-event-loop.js';

export interface GraphRunOptions<Output extends string = string> {
  /** Only these outputs (default all). */
  readonly outputs?: readonly Output[];
  /** Outputs to leave on the device for the next run. */
  readonly keepOnDevice?: readonly Output[];
  readonly signal?: AbortSignal;
}

/**
 * What the pipelines see of the loaded model: named graphs to run. Typed by the family's graph
 * contract (src/spec/graph-contract.ts): a feed or output name the contract does not declare, or a
 * missing input, is a compile error. Untyped (any name) with the default contract.
 */
export interface Graphs<Contract extends GraphContract = GraphContract> {
  /** Whether this model has (and loaded for its capabilities) the graph. */
  has(name: keyof Contract & string): boolean;
  run<Name extends keyof Contract & string>(
    name: Name,
    feeds: GraphFeeds<Contract[Name]>,
    options?: GraphRunOptions<OutputName<Contract[Name]>>,
  ): Promise<GraphOutputs<Contract[Name]>>;
  /**
   * Free the graph's session now; the next `run` of it creates the session again (lazily, as on
   * first use). For graphs a call needs only at its start (text encoders, a VLM): see the
   * `lowMemory` load option and `CallContext.doneWith`.
   */
  release(name: keyof Contract & string): Promise<void>;
}

/**
 * Runs sessions from a provider with the SDK's invariants: abort is checked before every run (one
 * ORT run cannot be interrupted), and float outputs are scanned for NaN/Infinity so a numeric
 * failure is reported instead of becoming a silent black image.
 */
export class CheckedGraphs<Contract extends GraphContract = GraphContract> implements Graphs<Contract> {
  // Between ORT runs the event loop gets a turn every few ms, so pages stay responsive and
  // abort messages reach a worker while a call runs.
  private readonly yieldSometimes = createYielder();

  private readonly available: ReadonlySet<GraphName> | undefined;

  /**
   * `available`: the graphs the model has; absent means every graph asked for (tests).
   * `release`: frees a graph's session (the model's session pool); absent, sessions come from the
   * caller, who owns them, and `release` does nothing.
   */
  constructor(
    private readonly session: (name: GraphName) => Promise<BackendSession>,
    available?: readonly GraphName[],
    private readonly releaseSession?: (name: GraphName) => Promise<void>,
  ) {
    this.available = available ? new Set(available) : undefined;
  }

  async release(name: keyof Contract & string): Promise<void> {
    await this.releaseSession?.(name);
  }

  has(name: keyof Contract & string): boolean {
    return this.available ? this.available.has(name) : true;
  }

  run<Name extends keyof Contract & string>(
    name: Name,
    feeds: GraphFeeds<Contract[Name]>,
    options?: GraphRunOptions<OutputName<Contract[Name]>>,
  ): Promise<GraphOutputs<Contract[Name]>> {
    return this.runChecked(name, feeds as Readonly<Record<string, Feed>>, options) as Promise<GraphOutputs<Contract[Name]>>;
  }

  private async runChecked(name: GraphName, feeds: Readonly<Record<string, Feed>>, options: GraphRunOptions = {}): Promise<Record<string, DeviceTensor>> {
    throwIfAborted(options.signal);
    const session = await this.session(name);
    throwIfAborted(options.signal);
    const outputs = await session.run(feeds, { outputs: options.outputs, keepOnDevice: options.keepOnDevice });
    await this.yieldSometimes();
    const kept = new Set(options.keepOnDevice ?? []);
    for (const [output, value] of Object.entries(outputs)) {
      // Outputs kept for the next graph (KV cache, encoder features) only feed graphs whose own
      // outputs are scanned, so a NaN still surfaces; scanning them would cost a pass over the
      // whole cache per token.
      if (kept.has(output) || value.location !== 'cpu' || value.type !== 'float32') continue;
      const host = await value.download();
      const data = host.data as Float32Array;
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i])) {
          for (const v of Object.values(outputs)) v.dispose();
          throw new NumericError(`graph ${name} produced ${data[i]} in output ${output} at element ${i}`, {
            details: { graph: name, output, index: i },
          });
        }
      }
    }
    try {
      throwIfAborted(options.signal);
    } catch (error) {
      for (const v of Object.values(outputs)) v.dispose();
      throw error;
    }
    return outputs;
  }
}
