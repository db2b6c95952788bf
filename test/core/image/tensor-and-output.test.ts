import { decode } from 'fast-png';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodePng, pixelsFromDecoder, preprocessForEdit, preprocessForUnderstanding, toBlob, toModelTensor, type RgbImage } from '../../../src/core/image/index.js';
import { fixtureBytes, index } from './support/fixtures.js';
import { loadImage } from '../../../src/core/image/index.js';

// Oracles for the float arithmetic come from Python (struct float32 rounding at each step, the way
// torch computes on CPU), in index.json; they must match exactly (tolerance 0).

describe('toModelTensor', () => {
  it('maps every byte to 2·(x/255) − 1 in float32 exactly as the oracle', () => {
    const size = 16;
    const data = Uint8Array.from({ length: size * size * 3 }, (_, i) => i % 256);
    const tensor = toModelTensor({ width: size, height: size, data }, size);
    for (let i = 0; i < size * size; i++) {
      for (let c = 0; c < 3; c++) {
        expect(tensor[c * size * size + i]).toBe(index.normalize[data[i * 3 + c]]);
      }
    }
    expect(index.normalize[0]).toBe(-1);
    expect(index.normalize[255]).toBe(1);
  });

  it('is planar [1, 3, S, S]: red plane, then green, then blue', () => {
    const image: RgbImage = { width: 2, height: 2, data: new Uint8Array([255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]) };
    const tensor = toModelTensor(image, 2);
    expect(Array.from(tensor)).toEqual([1, 1, -1, -1, -1, -1, 1, -1, -1, -1, -1, 1]);
  });

  it('refuses an image of the wrong size', () => {
    expect(() => toModelTensor({ width: 3, height: 2, data: new Uint8Array(18) }, 2)).toThrow(/2×2 image, got 3×2/);
  });

  it('preprocessForEdit / preprocessForUnderstanding = square + Pillow resize + normalise', async () => {
    const source = await loadImage(fixtureBytes('sources/rgb-300x200.png'));
    for (const [run, operation] of [
      [preprocessForEdit, 'crop2square'],
      [preprocessForUnderstanding, 'expand2square'],
    ] as const) {
      const fixture = index.resizes.find((entry) => entry.source === 'sources/rgb-300x200.png' && entry.operation === operation && entry.width === 64)!;
      const pillow = fixtureBytes(fixture.output);
      const tensor = run(source, 64);
      expect(tensor.length).toBe(3 * 64 * 64);
      for (let i = 0; i < 64 * 64; i++) {
        for (let c = 0; c < 3; c++) expect(tensor[c * 4096 + i]).toBe(index.normalize[pillow[i * 3 + c]]);
      }
    }
  });
});

describe('pixelsFromDecoder', () => {
  it('matches trunc(clamp(127.5·x + 128, 0, 255)) in float32 for every oracle sample', () => {
    const samples = index.denormalize;
    const width = samples.length;
    // One batch row, 1×N image; the same values in all three channels.
    const output = new Float32Array(3 * width);
    samples.forEach(([x], i) => {
      output[i] = x;
      output[width + i] = x;
      output[2 * width + i] = x;
    });
    const [image] = pixelsFromDecoder(output, [1, 3, 1, width]);
    samples.forEach(([x, expected], i) => {
      expect(image.data[i * 4], `x = ${x}`).toBe(expected);
      expect(image.data[i * 4 + 2]).toBe(expected);
      expect(image.data[i * 4 + 3]).toBe(255);
    });
  });

  it('splits the batch, keeps channel order and sends NaN to 0', () => {
    // B=2, 1×1: row 0 is (−1, 0, 1), row 1 is (NaN, 0.5, −0.5).
    const images = pixelsFromDecoder(new Float32Array([-1, 0, 1, NaN, 0.5, -0.5]), [2, 3, 1, 1]);
    expect(images.map((image) => Array.from(image.data))).toEqual([
      [0, 128, 255, 255],
      [0, 191, 64, 255],
    ]);
  });

  it('refuses wrong shapes', () => {
    expect(() => pixelsFromDecoder(new Float32Array(12), [1, 4, 1, 3])).toThrow(/\[B, 3, H, W\]/);
    expect(() => pixelsFromDecoder(new Float32Array(5), [1, 3, 1, 2])).toThrow(/needs 6/);
  });
});

describe('encodePng and toBlob', () => {
  const rgba = Uint8ClampedArray.from({ length: 5 * 3 * 4 }, (_, i) => (i * 37) % 256);

  it('writes an 8-bit RGBA PNG whose raw scanlines hold the pixels', () => {
    const png = encodePng(rgba, 5, 3);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
    expect([view.getUint32(16), view.getUint32(20), png[24], png[25]]).toEqual([5, 3, 8, 6]);
    // Independent check with node:zlib: concatenate IDAT bodies, inflate, undo the filters.
    const chunks: Uint8Array[] = [];
    for (let offset = 8; offset < png.length; ) {
      const length = view.getUint32(offset);
      const type = String.fromCharCode(...png.subarray(offset + 4, offset + 8));
      if (type === 'IDAT') chunks.push(png.subarray(offset + 8, offset + 8 + length));
      offset += 12 + length;
    }
    const raw = inflateSync(Buffer.concat(chunks));
    const stride = 5 * 4;
    const pixels = new Uint8Array(3 * stride);
    for (let y = 0; y < 3; y++) {
      const filter = raw[y * (stride + 1)];
      for (let x = 0; x < stride; x++) {
        const value = raw[y * (stride + 1) + 1 + x];
        const left = x >= 4 ? pixels[y * stride + x - 4] : 0;
        const up = y > 0 ? pixels[(y - 1) * stride + x] : 0;
        const upLeft = x >= 4 && y > 0 ? pixels[(y - 1) * stride + x - 4] : 0;
        const paeth = (() => {
          const p = left + up - upLeft;
          const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
          return pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
        })();
        const predictor = [0, left, up, (left + up) >> 1, paeth][filter];
        pixels[y * stride + x] = (value + predictor) & 0xff;
      }
    }
    expect(Array.from(pixels)).toEqual(Array.from(rgba));
  });

  it('round-trips through fast-png and through loadImage', async () => {
    const png = encodePng(rgba, 5, 3);
    expect(Array.from(decode(png).data)).toEqual(Array.from(rgba));
    const back = await loadImage(png);
    expect(Array.from(back.data)).toEqual(Array.from(rgba).filter((_, i) => i % 4 !== 3));
  });

  it('toBlob gives an image/png Blob of the same bytes', async () => {
    const blob = toBlob(rgba, 5, 3);
    expect(blob.type).toBe('image/png');
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(encodePng(rgba, 5, 3));
  });

  it('refuses a length that does not match the size', () => {
    expect(() => encodePng(new Uint8Array(10), 2, 2)).toThrow(/needs 16/);
  });
});
