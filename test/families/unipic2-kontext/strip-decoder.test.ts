import { describe, expect, it } from 'vitest';
import { fp32FolderGraphs } from './support/folder-graphs.js';
import { float32, takeFloat32 } from '../../../src/core/tensor.js';
import { decodeInStrips } from '../../../src/core/vae/strip-decode.js';
import { convertKontextCheckpoint } from '../../../src/families/unipic2-kontext/convert/convert-kontext.js';
import { freshDir, goldenError, goldenFloat, TINY_CHECKPOINT } from './support/kontext-fixtures.js';

describe('SD3 VAE strip decoder (Kontext converter)', () => {
  // The converted vae_decoder_strips with the manifest's plan, 2-row strips (many per stage),
  // against the one-shot vae_decoder of the same folder (float32 rounding only) and the PyTorch
  // oracle's decode (the one-shot graph's own tolerance).
  it('equals the one-shot decode within 1e-5 and matches the oracle', async () => {
    const out = freshDir('strips');
    const { manifest } = await convertKontextCheckpoint(TINY_CHECKPOINT, out, { dtypes: ['fp32'] });
    const plan = manifest.stripDecoder!;
    expect(plan.stages.filter((stage) => stage.kind === 'upsample')).toHaveLength(2);
    const { graphs, dispose } = await fp32FolderGraphs(out);
    try {
      const input = goldenFloat('vae.decode.decoder_input');
      const latent = float32(input.shape, input.data);
      const oneShot = await takeFloat32((await graphs.run('vae_decoder', { latents: latent })).pixels);
      const strips = await decodeInStrips(graphs, plan, latent, { stripRows: 2 });
      expect(strips.dims).toEqual(oneShot.dims);
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < oneShot.data.length; i++) {
        worst = Math.max(worst, Math.abs(strips.data[i] - oneShot.data[i]));
        scale = Math.max(scale, Math.abs(oneShot.data[i]));
      }
      console.log(`SD3 strip decoder vs one-shot: ${(worst / scale).toExponential(2)}`);
      expect(worst / scale).toBeLessThan(1e-5);
      expect(goldenError(strips.data, goldenFloat('vae.decode.decoded').data)).toBeLessThan(1e-4);
    } finally {
      await dispose();
    }
  });
});
