import type { DeviceTensor, Feed, HostTensor } from '../../../spec/backend.js';
import { float32 } from '../../../core/tensor.js';
import type { GraphRunOptions } from '../../../core/model/graphs.js';

/** The Metaquery family's graphs (docs/model-format.md, "UniPic2-Metaquery"). */
export type MqGraphName = 'vision' | 'embed' | 'llm' | 'lm_head' | 'conditioner';

/** What the family's pipelines run; core's CheckedGraphs satisfies it once the names are registered. */
export interface MqGraphs {
  run(name: MqGraphName, feeds: Readonly<Record<string, Feed>>, options?: GraphRunOptions): Promise<Record<string, DeviceTensor>>;
}

/** The numbers the runtime needs (the converter writes them into the manifest). */
export interface MqRuntimeConfig {
  readonly llm: {
    readonly hiddenSize: number;
    readonly numLayers: number;
    readonly numKeyValueHeads: number;
    readonly headDim: number;
    readonly ropeTheta: number;
    readonly maxPositionEmbeddings: number;
  };
  readonly mropeSection: readonly number[];
  readonly vision: {
    readonly headDim: number;
    readonly patchSize: number;
    readonly spatialMergeSize: number;
    readonly windowSize: number;
    readonly temporalPatchSize: number;
  };
  readonly imageTokenId: number;
  readonly numQueries: number;
}

/** An empty KV cache (past length 0) for a first `llm` call. */
export function emptyCache(config: MqRuntimeConfig): Record<string, HostTensor> {
  const { numLayers, numKeyValueHeads, headDim } = config.llm;
  const past: Record<string, HostTensor> = {};
  for (let i = 0; i < numLayers; i++) {
    for (const kind of ['key', 'value']) past[`past_key_values.${i}.${kind}`] = float32([1, numKeyValueHeads, 0, headDim], new Float32Array(0));
  }
  return past;
}
