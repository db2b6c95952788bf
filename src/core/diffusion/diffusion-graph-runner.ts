import type { DeviceTensor, Feed } from '../../spec/backend.js';

/** The graphs the SD3 sampler runs: the denoiser and the two VAE halves. */
export type DiffusionGraphName = 'transformer' | 'vae_encoder' | 'vae_decoder';

/** What the sampler needs of a loaded model: its graphs, run with abort checks. */
export interface DiffusionGraphRunner {
  run(name: DiffusionGraphName, feeds: Readonly<Record<string, Feed>>, options?: { readonly signal?: AbortSignal }): Promise<Record<string, DeviceTensor>>;
}
