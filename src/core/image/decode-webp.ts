import type { DecodedPixels } from './rgb-image.js';

interface WebpDecoder {
  decode(buffer: ArrayBuffer): Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
}

let decoder: Promise<WebpDecoder> | undefined;

/**
 * @jsquash/webp (libwebp compiled to wasm), loaded on first use. In Node its wasm is read from
 * node_modules and handed over compiled; in browsers its own glue fetches it next to the module.
 */
function webpDecoder(): Promise<WebpDecoder> {
  decoder ??= (async () => {
    const module = await import('@jsquash/webp/decode.js');
    const { isNode, webpWasmModule } = await import('./node-access.js');
    if (isNode()) await module.init(await webpWasmModule());
    return { decode: module.default };
  })();
  decoder.catch(() => {
    decoder = undefined;
  });
  return decoder;
}

function fromRgba(width: number, height: number, rgba: ArrayLike<number>): DecodedPixels {
  const count = width * height;
  const rgb = new Uint8Array(count * 3);
  const alpha = new Uint8Array(count);
  let opaque = true;
  for (let i = 0; i < count; i++) {
    rgb[i * 3] = rgba[i * 4];
    rgb[i * 3 + 1] = rgba[i * 4 + 1];
    rgb[i * 3 + 2] = rgba[i * 4 + 2];
    alpha[i] = rgba[i * 4 + 3];
    if (alpha[i] !== 255) opaque = false;
  }
  return opaque ? { width, height, rgb } : { width, height, rgb, alpha };
}

/** Browsers that cannot load the wasm still decode WebP natively (pixels then depend on the browser). */
async function decodeWithBrowser(bytes: Uint8Array): Promise<DecodedPixels | undefined> {
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') return undefined;
  const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/webp' }), {
    imageOrientation: 'none',
    premultiplyAlpha: 'none',
    colorSpaceConversion: 'none',
  });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d')!;
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  return fromRgba(canvas.width, canvas.height, data);
}

export async function decodeWebp(bytes: Uint8Array): Promise<DecodedPixels> {
  let webp: WebpDecoder;
  try {
    webp = await webpDecoder();
  } catch (error) {
    const native = await decodeWithBrowser(bytes).catch(() => undefined);
    if (native) return native;
    throw new Error('the WebP decoder (@jsquash/webp wasm) could not be loaded', { cause: error });
  }
  // The decoder takes an ArrayBuffer holding exactly the file.
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  const image = await webp.decode(own ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer);
  return fromRgba(image.width, image.height, image.data);
}
