import { MemoryWeights } from '../../../../../src/convert/graphs/weights.js';
import type { MarGraphConfig } from '../../../../../src/families/unipic1/convert/graphs/mar/mar-config.js';
import tinyConfig from '../../../../../src/families/unipic1/convert/tiny/tiny-config.json';
import { randomArray } from '../../layers/support/graph-runner.js';
import type { MarDims } from './mar-reference.js';

/** The tiny model's MAR dimensions, straight from tiny-config.json. */
export const TINY_MAR_DIMS: MarDims = {
  encoderWidth: tinyConfig.mar.encoder_embed_dim,
  decoderWidth: tinyConfig.mar.decoder_embed_dim,
  encoderDepth: tinyConfig.mar.encoder_depth,
  decoderDepth: tinyConfig.mar.decoder_depth,
  encoderHeads: tinyConfig.mar.encoder_num_heads,
  decoderHeads: tinyConfig.mar.decoder_num_heads,
  bufferSize: tinyConfig.mar.buffer_size,
  tokenDim: tinyConfig.mar.token_embed_dim,
  hidden: tinyConfig.llm.hidden_size,
};

export const TINY_MAR_CONFIG: MarGraphConfig = {
  mar: {
    encoderWidth: TINY_MAR_DIMS.encoderWidth,
    decoderWidth: TINY_MAR_DIMS.decoderWidth,
    encoderDepth: TINY_MAR_DIMS.encoderDepth,
    decoderDepth: TINY_MAR_DIMS.decoderDepth,
    encoderHeads: TINY_MAR_DIMS.encoderHeads,
    decoderHeads: TINY_MAR_DIMS.decoderHeads,
    bufferSize: TINY_MAR_DIMS.bufferSize,
    tokenDim: TINY_MAR_DIMS.tokenDim,
  },
  llm: { hiddenSize: TINY_MAR_DIMS.hidden },
};

/**
 * Random weights under the official key names. Linear weights are uniform with a 1/√fan-in
 * scale so activations stay O(1) through the blocks; norms are near 1 so they are not identity.
 */
export function tinyMarWeights(dims: MarDims = TINY_MAR_DIMS, seed = 100): MemoryWeights {
  return new MemoryWeights(tinyMarTensors(dims, seed));
}

export type TensorRecord = Record<string, { shape: number[]; data: Float32Array }>;

export function tinyMarTensors(dims: MarDims = TINY_MAR_DIMS, seed = 100): TensorRecord {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  let next = seed;
  const put = (name: string, shape: number[], scale: number, offset = 0): void => {
    const data = randomArray(
      shape.reduce((a, b) => a * b, 1),
      next++,
      scale,
    );
    if (offset) for (let i = 0; i < data.length; i++) data[i] += offset;
    tensors[name] = { shape, data };
  };
  const dense = (prefix: string, out: number, inFeatures: number): void => {
    put(`${prefix}.weight`, [out, inFeatures], Math.sqrt(3 / inFeatures));
    put(`${prefix}.bias`, [out], 0.1);
  };
  const norm = (prefix: string, width: number): void => {
    put(`${prefix}.weight`, [width], 0.2, 1);
    put(`${prefix}.bias`, [width], 0.1);
  };
  const blocks = (prefix: string, count: number, width: number): void => {
    for (let b = 0; b < count; b++) {
      const p = `${prefix}.${b}`;
      norm(`${p}.norm1`, width);
      dense(`${p}.attn.qkv`, 3 * width, width);
      dense(`${p}.attn.proj`, width, width);
      norm(`${p}.norm2`, width);
      dense(`${p}.mlp.fc1`, 4 * width, width);
      dense(`${p}.mlp.fc2`, width, 4 * width);
    }
  };
  const { encoderWidth, decoderWidth, tokenDim, hidden } = dims;
  dense('mar.z_proj', encoderWidth, tokenDim);
  put('mar.fake_latent', [1, encoderWidth], 0.5);
  norm('mar.z_proj_ln', encoderWidth);
  blocks('mar.encoder_blocks', dims.encoderDepth, encoderWidth);
  norm('mar.encoder_norm', encoderWidth);
  dense('proj_in.0', hidden, encoderWidth);
  dense('proj_in.2', hidden, hidden);
  dense('proj_out.0', hidden, hidden);
  dense('proj_out.2', encoderWidth, hidden);
  dense('mar.decoder_embed', decoderWidth, encoderWidth);
  blocks('mar.decoder_blocks', dims.decoderDepth, decoderWidth);
  norm('mar.decoder_norm', decoderWidth);
  return tensors;
}
