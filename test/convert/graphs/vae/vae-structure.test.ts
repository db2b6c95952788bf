import { describe, expect, it } from 'vitest';
import { buildVaeDecoderGraph } from '../../../../src/families/unipic1/convert/graphs/vae/vae-decoder-graph.js';
import { buildVaeEncoderGraph } from '../../../../src/families/unipic1/convert/graphs/vae/vae-encoder-graph.js';
import { UNIPIC_VAE_CONFIG, vaeConfigFromJson } from '../../../../src/families/unipic1/convert/graphs/vae/vae-config.js';
import { MemoryWeights, type WeightSource } from '../../../../src/convert/graphs/weights.js';
import { InvalidModelError } from '../../../../src/errors/invalid-model-error.js';
import { InvalidOptionsError } from '../../../../src/errors/invalid-options-error.js';
import { floatFeed, makeContext, runGraph } from '../layers/support/graph-runner.js';
import { LazyRandomWeights, TINY_VAE_CONFIG, vaeWeightSpecs } from './support/tiny-vae-weights.js';

/** Records which keys a builder reads, to prove every checkpoint tensor is used exactly where expected. */
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

describe('VAE graph structure', () => {
  it('reads every kl16 key once between the two graphs: encoder+quant_conv, decoder+post_quant_conv', () => {
    const specs = vaeWeightSpecs(TINY_VAE_CONFIG);
    const encoderWeights = new RecordingWeights(new LazyRandomWeights(specs));
    buildVaeEncoderGraph({ ...makeContext(new MemoryWeights({})).ctx, weights: encoderWeights }, TINY_VAE_CONFIG);
    const decoderWeights = new RecordingWeights(new LazyRandomWeights(specs));
    buildVaeDecoderGraph({ ...makeContext(new MemoryWeights({})).ctx, weights: decoderWeights }, TINY_VAE_CONFIG);
    const encoderKeys = Object.keys(specs).filter((k) => k.startsWith('vae.encoder.') || k.startsWith('vae.quant_conv.'));
    const decoderKeys = Object.keys(specs).filter((k) => k.startsWith('vae.decoder.') || k.startsWith('vae.post_quant_conv.'));
    expect([...encoderWeights.read].sort()).toEqual(encoderKeys.sort());
    expect([...decoderWeights.read].sort()).toEqual(decoderKeys.sort());
  });

  it('parses the tiny-config section and rejects a malformed one', () => {
    expect(TINY_VAE_CONFIG).toEqual({
      ch: 8,
      chMult: [1, 1, 2, 2, 4],
      numResBlocks: 2,
      zChannels: 16,
      embedDim: 16,
      groups: 4,
      encoderAttentionLevels: [4],
      scale: 0.2325,
    });
    expect(() => vaeConfigFromJson({ ch: 8 })).toThrow(InvalidOptionsError);
  });

  it('refuses a checkpoint whose widths disagree with the config', () => {
    const weights = new LazyRandomWeights(vaeWeightSpecs(TINY_VAE_CONFIG));
    const { ctx } = makeContext(new MemoryWeights({}));
    expect(() => buildVaeEncoderGraph({ ...ctx, weights }, { ...TINY_VAE_CONFIG, ch: 16 })).toThrow(InvalidModelError);
  });

  // Real UniPic widths (ch 128, 32 groups, 512-channel attention), random weights, smallest input:
  // proves the real configuration wires up (GroupNorm divisibility, shortcuts, attention widths).
  it('builds and runs the real-size KL-16 (16 px in, one latent token)', async () => {
    const specs = vaeWeightSpecs(UNIPIC_VAE_CONFIG);
    const weights = new LazyRandomWeights(specs);
    const parameters = Object.values(specs).reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
    // The KL-16 VAE's configs give ≈ 28.3 M (encoder) + 38.2 M (decoder) parameters, plus the two 1×1 convs.
    expect(parameters / 1e6).toBeGreaterThan(66);
    expect(parameters / 1e6).toBeLessThan(67);

    const encoder = makeContext(new MemoryWeights({}));
    buildVaeEncoderGraph({ ...encoder.ctx, weights }, UNIPIC_VAE_CONFIG);
    const pixels = new Float32Array(3 * 16 * 16).map((_, i) => Math.sin(i) * 0.9);
    const encoded = await runGraph(encoder.finish(), { pixels: floatFeed(pixels, [1, 3, 16, 16]) });
    expect(encoded.latents.dims).toEqual([1, 1, 1, 16]);
    expect(encoded.latents.data.every(Number.isFinite)).toBe(true);

    const decoder = makeContext(new MemoryWeights({}));
    buildVaeDecoderGraph({ ...decoder.ctx, weights }, UNIPIC_VAE_CONFIG);
    const decoded = await runGraph(decoder.finish(), { latents: floatFeed(encoded.latents.data, [1, 1, 1, 16]) });
    expect(decoded.pixels.dims).toEqual([1, 3, 16, 16]);
    expect(decoded.pixels.data.every(Number.isFinite)).toBe(true);
  });
});
