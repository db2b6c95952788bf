import type { ModelConfig } from '../../spec/manifest.js';
import type { Graphs } from './graphs.js';
import type { ModelAssets } from './model-assets.js';

/** Everything a capability pipeline gets from the model for one call. */
export interface CallContext {
  readonly graphs: Graphs;
  readonly config: ModelConfig;
  readonly assets: ModelAssets;
  readonly signal: AbortSignal;
  warn(code: string, message: string): void;
}
