import type { DeviceTensor, Feed } from '../../../spec/backend.js';
import type { QwenSchedulerConfig } from '../sampling/scheduler-config.js';
import type { TextEncoderConfig } from '../text/encode-prompt.js';

/** What the edit pipeline runs: core's CheckedGraphs satisfies it once the family's graphs are registered. */
export interface Unipic3Graphs {
  run(name: string, feeds: Readonly<Record<string, Feed>>, options?: { signal?: AbortSignal; outputs?: readonly string[] }): Promise<Record<string, DeviceTensor>>;
}

/** Which sampler the checkpoint was trained for: the teacher's Euler steps or the distilled x0 / re-noise steps. */
export type Unipic3Sampler = 'teacher' | 'distilled';

/** The runtime numbers of a converted UniPic-3 folder (manifest `config`). */
export interface Unipic3Config {
  readonly textEncoder: TextEncoderConfig;
  readonly transformer: {
    /** Packed channels per token (4 × latent channels). */
    readonly inChannels: number;
    readonly axesDims: readonly [number, number, number];
    /** The `transformer_blocks_<a>_<b>` graphs in order. */
    readonly blockGraphs: readonly string[];
  };
  readonly vae: {
    readonly zDim: number;
    /** Pixels per latent cell (8). */
    readonly scale: number;
  };
  readonly scheduler: QwenSchedulerConfig;
  readonly sampler: Unipic3Sampler;
  /** Default step count: 50 (teacher) or 8 (distilled; the scripts' 4 also works). */
  readonly steps: number;
}
