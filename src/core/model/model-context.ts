import type { GraphContract } from '../../spec/graph-contract.js';
import type { Graphs } from './graphs.js';

/**
 * Everything a task pipeline gets from the model for one call. `Assets` and `Config` are the
 * family's (its per-model files and its manifest `config` section, validated by its schema);
 * `Contract` its graph contract, which types `graphs.run`.
 */
export interface CallContext<Assets = unknown, Config = unknown, Contract extends GraphContract = GraphContract> {
  readonly graphs: Graphs<Contract>;
  readonly config: Config;
  readonly assets: Assets;
  readonly signal: AbortSignal;
  /** Report a non-fatal problem: a `warning` event now, and in the call's result. */
  warn(code: string, message: string): void;
  /** Every warning this call raised so far. */
  readonly warnings: readonly { code: string; message: string }[];
  /** The model was loaded with `lowMemory`: graphs passed to `doneWith` are freed. */
  readonly lowMemory: boolean;
  /**
   * The call no longer needs these graphs (e.g. text encoders once the prompt is encoded). With
   * `lowMemory` their sessions are freed now and created again by the next call that runs them;
   * otherwise nothing happens. Graphs the model lacks or never created are skipped.
   */
  doneWith(graphs: readonly (keyof Contract & string)[]): Promise<void>;
}
