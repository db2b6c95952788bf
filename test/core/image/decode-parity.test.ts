import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadImage } from '../../../src/core/image/index.js';
import { compareBytes, fixtureBytes, index } from './support/fixtures.js';

// Oracle: Pillow's Image.open(...).convert('RGB') (and ImageOps.exif_transpose) recorded by
// tools/reference/pillow/generate.py. PNG, WebP and grey/YCbCr JPEG must match exactly (0 levels).
// CMYK JPEG goes through jpeg-js, whose CMYK→RGB rounding differs: tolerance 1 level, measured
// max 1, mean 0.07 on the fixture.
const CMYK_TOLERANCE = 1;

describe('decoding matches Pillow', () => {
  for (const source of index.sources) {
    it(`${source.file} (${source.pillowMode}: ${source.note})`, async () => {
      const image = await loadImage(fixtureBytes(source.file), { orientation: 'ignore' });
      expect([image.width, image.height]).toEqual([source.width, source.height]);
      const tolerance = source.pillowMode === 'CMYK' ? CMYK_TOLERANCE : 0;
      if (source.decodedSha256) {
        expect(createHash('sha256').update(image.data).digest('hex')).toBe(source.decodedSha256);
        return;
      }
      const expected = fixtureBytes(source.expected ?? source.decoded!);
      const { max, at } = compareBytes(image.data, expected);
      expect(max, `max difference ${max} at byte ${at}`).toBeLessThanOrEqual(tolerance);
    });
  }

  it('16-bit grey takes the high byte where Pillow clips at 255 (documented deviation)', async () => {
    const source = index.sources.find((entry) => entry.pillowMode === 'I;16')!;
    const image = await loadImage(fixtureBytes(source.file));
    const pillow = fixtureBytes(source.decoded!);
    expect(compareBytes(image.data, fixtureBytes(source.expected!)).max).toBe(0);
    // Pillow's own result is mostly white: prove the fixture really shows the difference.
    expect(pillow.filter((value) => value === 255).length).toBeGreaterThan(pillow.length * 0.9);
    expect(compareBytes(image.data, pillow).max).toBeGreaterThan(100);
  });
});

describe('EXIF orientation matches ImageOps.exif_transpose', () => {
  for (const source of index.sources.filter((entry) => entry.transposed)) {
    it(`${source.file} (orientation ${source.orientation})`, async () => {
      const image = await loadImage(fixtureBytes(source.file));
      expect([image.width, image.height]).toEqual([source.transposedWidth, source.transposedHeight]);
      const { max, at } = compareBytes(image.data, fixtureBytes(source.transposed!));
      expect(max, `max difference ${max} at byte ${at}`).toBe(0);
    });
  }

  it("orientation: 'ignore' keeps the stored pixels (what the official scripts see)", async () => {
    const source = index.sources.find((entry) => entry.file === 'sources/orient6-24x16.jpg')!;
    const image = await loadImage(fixtureBytes(source.file), { orientation: 'ignore' });
    expect([image.width, image.height]).toEqual([24, 16]);
    expect(compareBytes(image.data, fixtureBytes(source.decoded!)).max).toBe(0);
  });
});

describe('alpha', () => {
  it('is dropped by default, keeping the colour stored under transparent pixels (Pillow convert)', async () => {
    const image = await loadImage(fixtureBytes('sources/rgba-40x30.png'));
    expect(compareBytes(image.data, fixtureBytes('expected/rgba-40x30-png.decoded.rgb')).max).toBe(0);
    // Columns 0..3 are fully transparent but not black underneath: their colour survives.
    expect(Array.from(image.data.subarray(0, 3))).not.toEqual([0, 0, 0]);
  });

  it('is composited over `background` when given', async () => {
    const image = await loadImage(
      { data: new Uint8Array([200, 100, 0, 0, 200, 100, 0, 255, 200, 100, 0, 128]), width: 3, height: 1, channels: 4 },
      { background: [255, 255, 255] },
    );
    // round((c·a + 255·(255 − a)) / 255) by hand: a=0 → background, a=255 → colour, a=128 → mix.
    expect(Array.from(image.data)).toEqual([255, 255, 255, 200, 100, 0, 227, 177, 127]);
  });

  it('applies to palette tRNS and key-colour tRNS too when a background is given', async () => {
    const keyed = await loadImage(fixtureBytes('sources/gray-trns-10x4.png'), { background: [0, 255, 0] });
    const plain = await loadImage(fixtureBytes('sources/gray-trns-10x4.png'));
    // Grey value 50 is the key colour: exactly those pixels turn green.
    for (let i = 0; i < plain.data.length / 3; i++) {
      const isKey = plain.data[i * 3] === 50;
      expect(Array.from(keyed.data.subarray(i * 3, i * 3 + 3))).toEqual(isKey ? [0, 255, 0] : Array.from(plain.data.subarray(i * 3, i * 3 + 3)));
    }
  });
});

describe('concurrent decodes', () => {
  it('many JPEG and WebP decodes at once each get their own, correct pixels', async () => {
    const files = ['sources/photo-420-64x48.jpg', 'sources/lossy-40x30.webp', 'sources/photo-444-64x48.jpg', 'sources/gray-40x30.jpg'];
    const jobs = Array.from({ length: 12 }, (_, i) => index.sources.find((entry) => entry.file === files[i % files.length])!);
    const images = await Promise.all(jobs.map((source) => loadImage(fixtureBytes(source.file))));
    images.forEach((image, i) => expect(compareBytes(image.data, fixtureBytes(jobs[i].decoded!)).max).toBe(0));
  });

  it('a truncated JPEG decoded alongside good ones fails alone', async () => {
    const whole = fixtureBytes('sources/photo-420-64x48.jpg');
    const results = await Promise.allSettled([loadImage(whole), loadImage(whole.slice(0, 900)), loadImage(whole)]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
