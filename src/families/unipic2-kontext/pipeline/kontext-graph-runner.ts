import type { DeviceTensor, Feed } from '../../../spec/backend.js';
import type { KontextGraphName } from '../kontext-config.js';

/** What the Kontext pipelines need of a loaded model: its graphs, run with abort checks. */
export interface KontextGraphRunner {
  has(name: KontextGraphName): boolean;
  run(name: KontextGraphName, feeds: Readonly<Record<string, Feed>>, options?: { readonly signal?: AbortSignal }): Promise<Record<string, DeviceTensor>>;
}
