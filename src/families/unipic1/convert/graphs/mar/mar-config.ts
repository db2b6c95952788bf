import type { AttentionImplementation } from '../../../../../convert/graphs/layers/attention-implementation.js';
import type { ModelConfig } from '../../../manifest.js';

/**
 * What the MAR graph builders read from the manifest config. The full `ModelConfig` satisfies
 * it; tests may pass just these fields.
 */
export interface MarGraphConfig {
  readonly mar: Pick<
    ModelConfig['mar'],
    'encoderWidth' | 'decoderWidth' | 'encoderDepth' | 'decoderDepth' | 'encoderHeads' | 'decoderHeads' | 'bufferSize' | 'tokenDim'
  >;
  readonly llm: Pick<ModelConfig['llm'], 'hiddenSize'>;
}

export type { AttentionImplementation };

export interface MarGraphOptions {
  /** Default `standard`. */
  readonly attention?: AttentionImplementation;
}

/** timm `Block` and MAR's own LayerNorms all use eps 1e-6. */
export const MAR_LAYER_NORM_EPSILON = 1e-6;
