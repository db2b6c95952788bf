import { describe, expect, it } from 'vitest';
import { fp32FolderGraphs } from './support/folder-graphs.js';
import { float32, takeFloat32 } from '../../../src/core/tensor.js';
import { encodeInStrips } from '../../../src/core/vae/strip-encode.js';
import { convertKontextCheckpoint } from '../../../src/families/unipic2-kontext/convert/convert-kontext.js';
import { freshDir, goldenError, goldenFloat, TINY_CHECKPOINT } from './support/kontext-fixtures.js';

describe('SD3 VAE strip encoder (Kontext converter)', () => {
  // The shared strip encoder on the SD3 VAE (the same conv_in / ResnetBlock / downsample layers as
  // UniPic-1's KL-16): the converted vae_encoder_strips with the manifest's plan, 2-row strips,
  // against the one-shot vae_encoder of the same folder and the PyTorch oracle's moments.
  it('equals the one-shot encode within 1e-5 and matches the oracle', async () => {
    const out = freshDir('encoder-strips');
    const { manifest } = await convertKontextCheckpoint(TINY_CHECKPOINT, out, { dtypes: ['fp32'] });
    const plan = manifest.stripEncoder!;
    expect(plan.tail.outputs).toEqual(['mean', 'logvar']);
    const { graphs, dispose } = await fp32FolderGraphs(out);
    try {
      const input = goldenFloat('vae.encode.pixels');
      const pixels = float32(input.shape, input.data);
      const oneShot = await graphs.run('vae_encoder', { pixels });
      const strips = await encodeInStrips(graphs, plan, pixels, { stripRows: 2 });
      for (const name of ['mean', 'logvar'] as const) {
        const a = await takeFloat32(oneShot[name]);
        const b = await takeFloat32(strips[name]);
        expect(b.dims).toEqual(a.dims);
        let worst = 0;
        let scale = 0;
        for (let i = 0; i < a.data.length; i++) {
          worst = Math.max(worst, Math.abs(b.data[i] - a.data[i]));
          scale = Math.max(scale, Math.abs(a.data[i]));
        }
        console.log(`SD3 strip encoder ${name} vs one-shot: ${(worst / scale).toExponential(2)}`);
        expect(worst / scale).toBeLessThan(1e-5);
        if (name === 'mean') expect(goldenError(b.data, goldenFloat('vae.encode.mean').data)).toBeLessThan(1e-4);
      }
    } finally {
      await dispose();
    }
  });
});
