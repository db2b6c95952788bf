import { describe, expect, it } from 'vitest';
import { recordingTinyGraphs } from './support/recording-graphs.js';
import { decodeLatents } from '../../../src/families/unipic1/generation/decode-images.js';
import { randomArray } from '../../convert/graphs/layers/support/graph-runner.js';

describe('UniPic-1 decode through the converted strip decoder', () => {
  // The converter's vae_decoder_strips and manifest plan, run by decodeLatents image by image,
  // against the same folder's one-shot vae_decoder: the same RGBA bytes but for a value that
  // lands within float32 rounding of a quantisation step.
  it('gives the one-shot images (2 images, strips forced at 64 px)', async () => {
    const { manifest, graphs, ran, dispose } = await recordingTinyGraphs();
    expect(manifest.stripDecoder?.graph).toBe('vae_decoder_strips');
    try {
      const grid = 4;
      const tokens = randomArray(2 * grid * grid * manifest.config.mar.tokenDim, 7, 1);
      const oneShot = await decodeLatents(graphs, manifest.config, tokens, 2, grid);
      expect(ran).toEqual(['vae_decoder']);
      const strips = await decodeLatents(graphs, manifest.config, tokens, 2, grid, undefined, manifest.stripDecoder, 0);
      expect(ran.filter((name) => name === 'vae_decoder_strips').length).toBe(2 * manifest.stripDecoder!.stages.length);
      expect(strips).toHaveLength(2);
      let differing = 0;
      for (let i = 0; i < 2; i++) {
        const a = oneShot[i].data;
        const b = strips[i].data;
        expect(b.length).toBe(a.length);
        for (let j = 0; j < a.length; j++) {
          expect(Math.abs(a[j] - b[j])).toBeLessThanOrEqual(1);
          if (a[j] !== b[j]) differing++;
        }
      }
      expect(differing).toBeLessThan(10);
    } finally {
      await dispose();
    }
  });
});
