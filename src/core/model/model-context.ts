import type { ModelConfig } from '../../spec/manifest.js';
import type { Graphs } from './graphs.js';
import type { ModelAssets } from '../../families/unipic1/model/model-assets.js';

/** Everything a capability pipeline gets from the model for one call. */
export interface CallContext {
  readonly graphs: Graphs;
  readonly config: ModelConfig;
  readonly assets: ModelAssets;
  readonly signal: AbortSignal;
  /** Report a non-fatal problem: a `warning` event now, and in the call's result. */
  warn(code: string, message: string): void;
  /** Every warning this call raised so far. */
  readonly warnings: readonly { code: string; message: string }[];
}
