import { describe, expect, it } from 'vitest';
import { buildVaeDecoderGraph } from '../../../../src/families/unipic1/convert/graphs/vae/vae-decoder-graph.js';
import { buildVaeEncoderGraph } from '../../../../src/families/unipic1/convert/graphs/vae/vae-encoder-graph.js';
import type { MemoryWeights } from '../../../../src/convert/graphs/weights.js';
import { floatFeed, makeContext, runGraph } from '../layers/support/graph-runner.js';
import { GOLDEN_TOLERANCE, goldenError, readGoldenFloat, tinyCheckpointWeights } from '../mar/support/reference-fixtures.js';
import { TINY_VAE_CONFIG } from './support/tiny-vae-weights.js';

/**
 * The VAE graphs built from the tiny kl16.ckpt (read by the converter's readers) against the
 * PyTorch oracle's goldens, tolerance |a − b| ≤ 1e-4 · max(1, max|expected|). Measured: encoder
 * 6.7e-7, decoder 8.9e-7.
 */

let weights: Promise<MemoryWeights> | undefined;
function checkpointWeights(): Promise<MemoryWeights> {
  weights ??= tinyCheckpointWeights((key) => key.startsWith('vae.'));
  return weights;
}

describe('VAE graphs vs the PyTorch oracle (tiny kl16.ckpt)', () => {
  it('vae_encoder reproduces the scaled posterior mean tokens', async () => {
    const { ctx, finish } = makeContext(await checkpointWeights());
    buildVaeEncoderGraph(ctx, TINY_VAE_CONFIG);
    const pixels = await readGoldenFloat('vae_encoder.pixels');
    const out = await runGraph(finish(), { pixels: floatFeed(pixels.data, pixels.shape) });
    const expected = await readGoldenFloat('vae_encoder.latents');
    expect(out.latents.dims).toEqual(expected.shape);
    expect(goldenError(out.latents.data, expected.data)).toBeLessThan(GOLDEN_TOLERANCE);
  });

  it('vae_decoder reproduces the pixels', async () => {
    const { ctx, finish } = makeContext(await checkpointWeights());
    buildVaeDecoderGraph(ctx, TINY_VAE_CONFIG);
    const latents = await readGoldenFloat('vae_decoder.latents');
    const out = await runGraph(finish(), { latents: floatFeed(latents.data, latents.shape) });
    const expected = await readGoldenFloat('vae_decoder.pixels');
    expect(out.pixels.dims).toEqual(expected.shape);
    expect(goldenError(out.pixels.data, expected.data)).toBeLessThan(GOLDEN_TOLERANCE);
  });
});
