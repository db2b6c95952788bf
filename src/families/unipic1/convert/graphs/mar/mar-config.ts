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

/**
 * How attention is built. `standard`: MatMul / Softmax / MatMul, materialising the score tensor
 * (every runtime has these ops). `fused`: com.microsoft `MultiHeadAttention`, which lets an
 * execution provider use its flash or memory-efficient kernel.
 */
export type AttentionImplementation = 'standard' | 'fused';

export interface MarGraphOptions {
  /** Default `standard`. */
  readonly attention?: AttentionImplementation;
}

/** timm `Block` and MAR's own LayerNorms all use eps 1e-6. */
export const MAR_LAYER_NORM_EPSILON = 1e-6;
