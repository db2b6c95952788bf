import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidOptionsError } from '../../../src/errors/index.js';
import { loadImage, type ImageInput } from '../../../src/core/image/index.js';
import { fixtureBytes, fixturePath } from './support/fixtures.js';

// Every input kind must yield the pixels Pillow decodes from the same file (exact).
const FILE = 'sources/rgba-40x30.png';
const expected = fixtureBytes('expected/rgba-40x30-png.decoded.rgb');
const bytes = fixtureBytes(FILE);

// The file's RGBA pixels, taken from the PNG by Pillow's decoded RGB plus the alpha the generator wrote.
function rgbaOf(): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(40 * 30 * 4);
  for (let i = 0; i < 40 * 30; i++) {
    rgba.set(expected.subarray(i * 3, i * 3 + 3), i * 4);
    rgba[i * 4 + 3] = 255;
  }
  return rgba;
}

let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === '/image.png') {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.end(readFileSync(fixturePath(FILE)));
    } else {
      response.writeHead(404);
      response.end('missing');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('every input kind decodes to the same pixels', () => {
  const cases: [string, () => ImageInput][] = [
    ['file path', () => fixturePath(FILE)],
    ['file: URL object', () => pathToFileURL(fixturePath(FILE))],
    ['file: URL string', () => pathToFileURL(fixturePath(FILE)).href],
    ['Buffer', () => readFileSync(fixturePath(FILE))],
    ['Uint8Array', () => bytes.slice()],
    [
      'Uint8Array view into a larger buffer',
      () => {
        const padded = new Uint8Array(bytes.length + 10);
        padded.set(bytes, 5);
        return padded.subarray(5, 5 + bytes.length);
      },
    ],
    ['ArrayBuffer', () => bytes.slice().buffer],
    ['DataView', () => new DataView(bytes.slice().buffer)],
    ['Blob', () => new Blob([bytes.slice()], { type: 'image/png' })],
    ['data: URL', () => `data:image/png;base64,${Buffer.from(bytes).toString('base64')}`],
    ['http URL', () => `${origin}/image.png`],
    ['ImageData-like', () => ({ data: rgbaOf(), width: 40, height: 30 })],
    ['raw RGB', () => ({ data: expected.slice(), width: 40, height: 30, channels: 3 as const })],
    ['raw RGBA', () => ({ data: rgbaOf(), width: 40, height: 30, channels: 4 as const })],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      const image = await loadImage(make());
      expect([image.width, image.height]).toEqual([40, 30]);
      expect(Buffer.from(image.data).equals(Buffer.from(expected))).toBe(true);
    });
  }

  it('raw grey (1 channel) and grey + alpha (2 channels, number[])', async () => {
    const grey = await loadImage({ data: new Uint8Array([0, 128, 255]), width: 3, height: 1, channels: 1 });
    expect(Array.from(grey.data)).toEqual([0, 0, 0, 128, 128, 128, 255, 255, 255]);
    const greyAlpha = await loadImage({ data: [10, 0, 20, 255], width: 2, height: 1, channels: 2 }, { background: [255, 0, 0] });
    expect(Array.from(greyAlpha.data)).toEqual([255, 0, 0, 20, 20, 20]);
  });

  it('a custom fetch is used for URLs', async () => {
    const fetchSpy = vi.fn(async () => new Response(bytes.slice()));
    const image = await loadImage('https://example.invalid/cat.png', { fetch: fetchSpy as unknown as typeof fetch });
    expect(fetchSpy).toHaveBeenCalledOnce();
    expect(Buffer.from(image.data).equals(Buffer.from(expected))).toBe(true);
  });

  it('a canvas-like object is read through its own 2D context', async () => {
    const canvas = { width: 40, height: 30, getContext: () => ({ getImageData: () => ({ data: rgbaOf(), width: 40, height: 30 }) }) };
    const image = await loadImage(canvas as unknown as HTMLCanvasElement);
    expect(Buffer.from(image.data).equals(Buffer.from(expected))).toBe(true);
  });

  it('an ImageBitmap-like object is drawn onto an OffscreenCanvas', async () => {
    const bitmap = { width: 40, height: 30, close: () => {} };
    let drawn: unknown;
    class FakeOffscreenCanvas {
      constructor(
        readonly width: number,
        readonly height: number,
      ) {}
      getContext() {
        return {
          drawImage: (image: unknown) => (drawn = image),
          getImageData: () => ({ data: rgbaOf(), width: this.width, height: this.height }),
        };
      }
    }
    vi.stubGlobal('OffscreenCanvas', FakeOffscreenCanvas);
    try {
      const image = await loadImage(bitmap as unknown as ImageBitmap);
      expect(drawn).toBe(bitmap);
      expect(Buffer.from(image.data).equals(Buffer.from(expected))).toBe(true);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('options', () => {
  it('are validated at the boundary', async () => {
    await expect(loadImage(bytes, { maxPixels: -1 })).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(loadImage(bytes, { background: [0, 0, 300] as unknown as [number, number, number] })).rejects.toThrow(/background/);
    await expect(loadImage(bytes, { colour: 'red' } as never)).rejects.toThrow(InvalidOptionsError);
  });

  it('an aborted signal rejects with AbortError before any work', async () => {
    const controller = new AbortController();
    controller.abort(new Error('user left'));
    await expect(loadImage(`${origin}/image.png`, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError', message: 'user left' });
  });
});
