import { describe, expect, it } from 'vitest';
import { InvalidInputError, UniPicError } from '../../../src/errors/index.js';
import { loadImage, type ImageInput, type LoadImageOptions } from '../../../src/core/image/index.js';
import { fixtureBytes } from './support/fixtures.js';

async function refusal(input: ImageInput, options?: LoadImageOptions): Promise<InvalidInputError> {
  try {
    await loadImage(input, options);
  } catch (error) {
    expect(UniPicError.isInstance(error)).toBe(true);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).code).toBe('INVALID_INPUT');
    return error as InvalidInputError;
  }
  throw new Error('loadImage accepted the input');
}

function be32(value: number): number[] {
  return [(value >>> 24) & 255, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
}

// Only the header of a 100000×100000 RGBA PNG (40 GB of pixels if anyone allocated them).
const PNG_BOMB = new Uint8Array([
  0x89,
  0x50,
  0x4e,
  0x47,
  0x0d,
  0x0a,
  0x1a,
  0x0a,
  0,
  0,
  0,
  13,
  0x49,
  0x48,
  0x44,
  0x52,
  ...be32(100000),
  ...be32(100000),
  8,
  6,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
]);
// SOI, then a baseline frame header declaring 65500×65500 with 3 components.
const JPEG_BOMB = new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0xff, 0xdc, 0xff, 0xdc, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
// RIFF/WEBP with a VP8X chunk declaring a 16384×16384 canvas.
const WEBP_BOMB = new Uint8Array(
  [...'RIFF']
    .map((c) => c.charCodeAt(0))
    .concat(
      [22, 0, 0, 0],
      [...'WEBPVP8X'].map((c) => c.charCodeAt(0)),
      [10, 0, 0, 0, 0x10, 0, 0, 0, 0xff, 0x3f, 0, 0xff, 0x3f, 0],
    ),
);

describe('decompression bombs are refused from the header, before allocating', () => {
  for (const [name, bomb, size] of [
    ['PNG IHDR 100000×100000', PNG_BOMB, '100000×100000'],
    ['JPEG SOF0 65500×65500', JPEG_BOMB, '65500×65500'],
    ['WebP VP8X 16384×16384', WEBP_BOMB, '16384×16384'],
  ] as const) {
    it(name, async () => {
      const before = process.memoryUsage().arrayBuffers;
      const error = await refusal(bomb);
      expect(error.message).toContain(size);
      expect(error.message).toMatch(/above the 67\.1 MP limit/);
      expect(error.details).toMatchObject({ maxPixels: 8192 * 8192 });
      // Nothing image-sized was allocated (a single decoded row of the PNG bomb is 400 kB).
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(256 * 1024);
    });
  }

  it('the limit is configurable, for files and raw pixels alike', async () => {
    const error = await refusal(fixtureBytes('sources/rgb-300x200.png'), { maxPixels: 50_000 });
    expect(error.message).toContain('300×200');
    await refusal({ data: new Uint8Array(300), width: 10, height: 10, channels: 3 }, { maxPixels: 99 });
    expect((await loadImage(fixtureBytes('sources/rgb-300x200.png'), { maxPixels: 60_000 })).width).toBe(300);
  });
});

describe('bad bytes fail with an InvalidInputError saying what was received', () => {
  it('zero bytes', async () => {
    expect((await refusal(new Uint8Array(0))).message).toMatch(/empty \(0 bytes\)/);
  });

  it('text', async () => {
    const error = await refusal(new TextEncoder().encode('hello, this is not an image'));
    expect(error.message).toContain('27 bytes, not a recognised image format, starting 68 65 6c 6c 6f');
  });

  it('a format that is recognised but not decoded (GIF)', async () => {
    const error = await refusal(new TextEncoder().encode('GIF89a\x01\x00\x01\x00'));
    expect(error.message).toMatch(/detected gif/);
    expect(error.message).toMatch(/PNG, JPEG and WebP are supported/);
  });

  for (const file of [
    'sources/rgb-300x200.png',
    'sources/photo-420-64x48.jpg',
    'sources/photo-progressive-64x48.jpg',
    'sources/lossy-40x30.webp',
    'sources/lossless-40x30.webp',
  ]) {
    it(`truncated copies of ${file}`, async () => {
      const whole = fixtureBytes(file);
      for (const keep of [0.9, 0.5, 0.1]) {
        const error = await refusal(whole.slice(0, Math.floor(whole.length * keep)));
        expect(error.message).toMatch(/truncated|could not be decoded|unreadable/);
        expect(error.message).toContain(`${Math.floor(whole.length * keep)} bytes`);
      }
      for (const length of [3, 12, 20, 30]) await refusal(whole.slice(0, length));
    });
  }

  it('a PNG with a damaged chunk checksum', async () => {
    const damaged = fixtureBytes('sources/rgb-37x61.png').slice();
    damaged[40] ^= 0xff;
    await refusal(damaged);
  });

  it('a header that declares a zero size', async () => {
    const zero = PNG_BOMB.slice();
    zero.set(be32(0), 16);
    expect((await refusal(zero)).message).toMatch(/invalid size 0×100000/);
  });

  it('raw pixels whose length does not match', async () => {
    expect((await refusal({ data: new Uint8Array(5), width: 2, height: 1, channels: 3 })).message).toMatch(/needs 6 values, got 5/);
    await refusal({ data: new Uint8Array(6), width: 2, height: 1, channels: 5 as 3 });
  });

  it('a missing file', async () => {
    expect((await refusal('/definitely/not/here.png')).message).toMatch(/no such file/);
  });

  it('an HTTP error', async () => {
    const fetch404 = async () => new Response('nope', { status: 404, statusText: 'Not Found' });
    expect((await refusal('https://example.invalid/x.png', { fetch: fetch404 as typeof fetch })).message).toMatch(/HTTP 404 Not Found/);
  });

  it('values that are not images', async () => {
    for (const value of [42, null, undefined, {}, { width: 3 }] as unknown[]) {
      expect((await refusal(value as ImageInput)).message).toMatch(/unsupported image input/);
    }
  });
});

describe('small and extreme shapes decode', () => {
  it('1×1 and 1000×1 / 1×700 PNGs', async () => {
    for (const [file, width, height] of [
      ['sources/rgb-1x1.png', 1, 1],
      ['sources/rgb-1000x1.png', 1000, 1],
      ['sources/rgb-1x700.png', 1, 700],
    ] as const) {
      const image = await loadImage(fixtureBytes(file));
      expect([image.width, image.height]).toEqual([width, height]);
    }
  });
});
