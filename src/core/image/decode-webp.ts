import type { DecodedPixels } from './rgb-image.js';
import { rgbaToPixels } from './rgba-to-pixels.js';
import { wasmCodec } from './wasm-codec.js';

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
  return rgbaToPixels(canvas.width, canvas.height, context.getImageData(0, 0, canvas.width, canvas.height).data);
}

/**
 * WebP through @jsquash/webp (libwebp in wasm, the library Pillow links too: pixels match Pillow
 * exactly in the fixtures, lossy included).
 */
export async function decodeWebp(bytes: Uint8Array): Promise<DecodedPixels> {
  let codec;
  try {
    codec = await wasmCodec('webp');
  } catch (error) {
    const native = await decodeWithBrowser(bytes).catch(() => undefined);
    if (native) return native;
    throw new Error(`the WebP decoder (@jsquash/webp wasm) could not be loaded: ${String(error)}`, { cause: error });
  }
  const { image } = await codec.decode(bytes);
  return rgbaToPixels(image.width, image.height, image.data);
}
