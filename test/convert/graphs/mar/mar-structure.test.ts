import { describe, expect, it } from 'vitest';
import { buildDecoderEmbedGraph } from '../../../../src/families/unipic1/convert/graphs/mar/decoder-embed-graph.js';
import { buildMarDecoderGraph } from '../../../../src/families/unipic1/convert/graphs/mar/mar-decoder-graph.js';
import { buildMarEncoderGraph } from '../../../../src/families/unipic1/convert/graphs/mar/mar-encoder-graph.js';
import { MemoryWeights, type WeightSource } from '../../../../src/convert/graphs/weights.js';
import { InvalidModelError } from '../../../../src/errors/invalid-model-error.js';
import { makeContext } from '../layers/support/graph-runner.js';
import { TINY_MAR_CONFIG, tinyMarTensors } from './support/tiny-mar-weights.js';

class RecordingWeights implements WeightSource {
  readonly read = new Set<string>();
  constructor(private readonly inner: WeightSource) {}
  has(name: string): boolean {
    return this.inner.has(name);
  }
  shape(name: string): readonly number[] {
    return this.inner.shape(name);
  }
  float32(name: string): Float32Array {
    this.read.add(name);
    return this.inner.float32(name);
  }
}

function keysRead(build: (weights: WeightSource) => void): string[] {
  const weights = new RecordingWeights(new MemoryWeights(tinyMarTensors()));
  build(weights);
  return [...weights.read].sort();
}

describe('MAR graph structure', () => {
  const all = Object.keys(tinyMarTensors());
  const ctxWith = (weights: WeightSource) => ({ ...makeContext(new MemoryWeights({})).ctx, weights });

  it('each graph reads exactly its own checkpoint keys', () => {
    const encoder = keysRead((w) => buildMarEncoderGraph(ctxWith(w), TINY_MAR_CONFIG));
    const decoder = keysRead((w) => buildMarDecoderGraph(ctxWith(w), TINY_MAR_CONFIG));
    const embed = keysRead((w) => buildDecoderEmbedGraph(ctxWith(w), TINY_MAR_CONFIG));
    const encoderPrefixes = ['mar.z_proj.', 'mar.z_proj_ln.', 'mar.fake_latent', 'mar.encoder_blocks.', 'mar.encoder_norm.', 'proj_in.'];
    const decoderPrefixes = ['proj_out.', 'mar.decoder_embed.', 'mar.decoder_blocks.', 'mar.decoder_norm.'];
    expect(encoder).toEqual(all.filter((k) => encoderPrefixes.some((p) => k.startsWith(p))).sort());
    expect(decoder).toEqual(all.filter((k) => decoderPrefixes.some((p) => k.startsWith(p))).sort());
    expect(embed).toEqual(['mar.decoder_embed.bias', 'mar.decoder_embed.weight']);
    // Together they use every MAR/connector tensor the test checkpoint has.
    expect(new Set([...encoder, ...decoder])).toEqual(new Set(all));
  });

  it('refuses a head count that does not divide the width', () => {
    const bad = { ...TINY_MAR_CONFIG, mar: { ...TINY_MAR_CONFIG.mar, encoderHeads: 5 } };
    expect(() => buildMarEncoderGraph(ctxWith(new MemoryWeights(tinyMarTensors())), bad)).toThrow(InvalidModelError);
  });
});
