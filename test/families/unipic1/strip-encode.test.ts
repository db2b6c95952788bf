import { describe, expect, it } from 'vitest';
import { recordingTinyGraphs } from './support/recording-graphs.js';
import { encodeLatents } from '../../../src/families/unipic1/generation/source-image.js';
import { maxNormalizedError, randomArray } from '../../convert/graphs/layers/support/graph-runner.js';

describe('UniPic-1 encode through the converted strip encoder', () => {
  // The converter's vae_encoder_strips and manifest plan, run by encodeLatents, against the same
  // folder's one-shot vae_encoder.
  it('gives the one-shot latents (strips forced at 64 px)', async () => {
    const { manifest, graphs, ran, dispose } = await recordingTinyGraphs();
    expect(manifest.stripEncoder?.graph).toBe('vae_encoder_strips');
    try {
      const size = 64;
      const pixels = randomArray(3 * size * size, 11, 1);
      const oneShot = await encodeLatents(graphs, size, pixels);
      expect(ran).toEqual(['vae_encoder']);
      // Below the strip side the one-shot graph runs even with a plan.
      await encodeLatents(graphs, size, pixels, undefined, manifest.stripEncoder);
      expect(ran).toEqual(['vae_encoder', 'vae_encoder']);
      const strips = await encodeLatents(graphs, size, pixels, undefined, manifest.stripEncoder, 0);
      expect(ran.filter((name) => name === 'vae_encoder_strips').length).toBeGreaterThan(manifest.stripEncoder!.passes.length);
      expect(strips.length).toBe(oneShot.length);
      expect(maxNormalizedError(strips, oneShot)).toBeLessThan(1e-5);
    } finally {
      await dispose();
    }
  });
});
