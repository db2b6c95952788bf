import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crop2square, expand2square, loadImage, resizeLikePillow, type RgbImage } from '../../../src/core/image/index.js';
import { axisCoefficients, PRECISION_BITS } from '../../../src/core/image/resample-coefficients.js';
import { compareBytes, fixtureBytes, index } from './support/fixtures.js';

// Oracle: Pillow's Image.resize((w, h)) (BICUBIC, antialiased), after the official crop2square /
// expand2square, recorded by tools/reference/pillow/generate.py. Tolerance: none, bit-exact.

const prepare = { crop2square, expand2square, none: (image: RgbImage) => image };

describe('resizeLikePillow is bit-exact with Pillow', () => {
  for (const fixture of index.resizes) {
    it(`${fixture.source} ${fixture.operation} → ${fixture.width}×${fixture.height}`, async () => {
      const source = await loadImage(fixtureBytes(fixture.source));
      const resized = resizeLikePillow(prepare[fixture.operation](source), fixture.width, fixture.height);
      expect([resized.width, resized.height]).toEqual([fixture.width, fixture.height]);
      const { max, at } = compareBytes(resized.data, fixtureBytes(fixture.output));
      expect(max, `first largest difference at byte ${at}`).toBe(0);
    });
  }

  for (const fixture of index.largeResizes) {
    it(`${fixture.source} ${fixture.operation} → ${fixture.width}×${fixture.height} (sha256 of Pillow's output)`, async () => {
      const source = await loadImage(fixtureBytes(fixture.source));
      const resized = resizeLikePillow(prepare[fixture.operation](source), fixture.width, fixture.height);
      for (const [x, y, rgb] of fixture.probes) {
        const at = (y * fixture.width + x) * 3;
        expect(Array.from(resized.data.subarray(at, at + 3)), `pixel (${x}, ${y})`).toEqual(rgb);
      }
      expect(createHash('sha256').update(resized.data).digest('hex')).toBe(fixture.sha256);
    });
  }
});

describe('resampler properties', () => {
  const image = (width: number, height: number, seed: number): RgbImage => ({
    width,
    height,
    data: Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 2654435761 + seed) >>> 24),
  });

  it('a flat image stays flat at any size (weights sum to one in fixed point)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 0, max: 255 }),
        (w, h, outW, outH, value) => {
          const flat = { width: w, height: h, data: new Uint8Array(w * h * 3).fill(value) };
          const resized = resizeLikePillow(flat, outW, outH);
          expect(resized.data.every((v) => v === value)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('fixed-point weights of every output sample sum to 2^22 within rounding', () => {
    for (const [inSize, outSize] of [
      [300, 64],
      [37, 128],
      [1, 5],
      [1500, 1024],
      [3, 150],
    ]) {
      const axis = axisCoefficients(inSize, outSize);
      for (let out = 0; out < outSize; out++) {
        let sum = 0;
        for (let k = 0; k < axis.count[out]; k++) sum += axis.weights[out * axis.kernelSize + k];
        // Each weight is rounded on its own: at most half a unit each away from the exact sum.
        expect(Math.abs(sum - 2 ** PRECISION_BITS)).toBeLessThanOrEqual(axis.count[out] / 2);
      }
    }
  });

  it('same size returns an equal copy, as Pillow does', () => {
    const source = image(7, 5, 3);
    const copy = resizeLikePillow(source, 7, 5);
    expect(copy.data).toEqual(source.data);
    expect(copy.data).not.toBe(source.data);
  });

  it('refuses non-positive or fractional sizes', () => {
    expect(() => resizeLikePillow(image(4, 4, 1), 0, 4)).toThrow(/positive integers/);
    expect(() => resizeLikePillow(image(4, 4, 1), 2.5, 4)).toThrow(/positive integers/);
  });
});

describe('crop2square and expand2square', () => {
  // A 5×2 image whose pixel (x, y) holds [x, y, 9].
  const strip: RgbImage = { width: 5, height: 2, data: Uint8Array.from({ length: 30 }, (_, i) => [Math.floor(i / 3) % 5, Math.floor(i / 15), 9][i % 3]) };

  it('crop2square keeps the centred square, left = (w − s) // 2', () => {
    const square = crop2square(strip);
    expect([square.width, square.height]).toEqual([2, 2]);
    // (5 − 2) // 2 = 1: columns 1 and 2 survive.
    expect(Array.from(square.data)).toEqual([1, 0, 9, 2, 0, 9, 1, 1, 9, 2, 1, 9]);
  });

  it('expand2square pads with (127,127,127), top = (W − H) // 2', () => {
    const square = expand2square(strip);
    expect([square.width, square.height]).toEqual([5, 5]);
    const row = (y: number) => Array.from(square.data.subarray(y * 15, y * 15 + 15));
    const grey = Array(15).fill(127);
    // (5 − 2) // 2 = 1: one grey row above, two below.
    expect(row(0)).toEqual(grey);
    expect(row(1)).toEqual(Array.from(strip.data.subarray(0, 15)));
    expect(row(2)).toEqual(Array.from(strip.data.subarray(15, 30)));
    expect(row(3)).toEqual(grey);
    expect(row(4)).toEqual(grey);
  });

  it('leave square images alone and handle 1×1', () => {
    const one: RgbImage = { width: 1, height: 1, data: new Uint8Array([1, 2, 3]) };
    expect(crop2square(one)).toBe(one);
    expect(expand2square(one)).toBe(one);
    expect(Array.from(resizeLikePillow(one, 3, 2).data)).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
  });
});
