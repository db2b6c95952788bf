import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { loadImage as LoadImage } from '../../../src/core/image/index.js';
import { compareBytes, fixtureBytes, index } from './support/fixtures.js';

// Pretend the wasm codecs cannot be loaded (a browser with a strict CSP, a bundler that dropped
// the .wasm files): JPEG must fall back to jpeg-js, WebP must fail with a clear typed error.
vi.mock('../../../src/core/image/wasm-codec.js', () => ({
  wasmCodec: () => Promise.reject(new Error('wasm blocked for this test')),
}));

// Tolerances for jpeg-js against Pillow/libjpeg-turbo, measured on these fixtures and stated in
// docs/images.md: full-resolution chroma differs only by IDCT/colour rounding (measured max 3);
// subsampled chroma is repeated instead of interpolated (measured max 66, mean 5.4 on 4:2:0).
const FULL_CHROMA = { max: 3, mean: 0.6 };
const SUBSAMPLED = { max: 70, mean: 7.5 };

describe('without the wasm codecs', () => {
  // The test setup (built-in families) already imported the image modules unmocked: import them
  // afresh so they see the mocked codec loader.
  let loadImage: typeof LoadImage;
  beforeAll(async () => {
    vi.resetModules();
    ({ loadImage } = await import('../../../src/core/image/index.js'));
  });

  for (const source of index.sources.filter((entry) => entry.format === 'jpeg' && entry.decoded)) {
    it(`${source.file} decodes through jpeg-js within tolerance`, async () => {
      const image = await loadImage(fixtureBytes(source.file), { orientation: 'ignore' });
      const { max, mean } = compareBytes(image.data, fixtureBytes(source.decoded!));
      const subsampled = /420|422|progressive/.test(source.file);
      const bound = subsampled ? SUBSAMPLED : FULL_CHROMA;
      expect(max).toBeLessThanOrEqual(bound.max);
      expect(mean).toBeLessThanOrEqual(bound.mean);
    });
  }

  it('a truncated JPEG is still refused', async () => {
    const whole = fixtureBytes('sources/photo-420-64x48.jpg');
    await expect(loadImage(whole.slice(0, whole.length / 2))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('WebP fails with an InvalidInputError naming the missing decoder', async () => {
    await expect(loadImage(fixtureBytes('sources/lossless-40x30.webp'))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/WebP decoder \(@jsquash\/webp wasm\) could not be loaded/),
    });
  });
});
