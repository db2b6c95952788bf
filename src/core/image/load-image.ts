import { throwIfAborted, toAbortError } from '../../errors/abort-error.js';
import { InvalidInputError } from '../../errors/invalid-input-error.js';
import { UniPicError } from '../../errors/unipic-error.js';
import { applyAlpha } from './apply-alpha.js';
import { decodeImagePixels, type DecodeSettings } from './decode-image-bytes.js';
import { parseLoadImageOptions, type LoadImageOptions, type ResolvedLoadImageOptions } from './load-image-options.js';
import { hostFileAccess } from './host-files.js';
import {
  drawableToPixels,
  imageDataToPixels,
  isDrawable,
  isImageDataLike,
  isRawPixels,
  rawToPixels,
  type DrawableImage,
  type ImageDataLike,
  type RawPixels,
} from './pixel-sources.js';
import { assertWithinPixelLimit } from './pixel-limit.js';
import type { DecodedPixels, RgbImage } from './rgb-image.js';

/**
 * Everything loadImage accepts. Strings are URLs when they have a scheme (http, https, data, blob,
 * file) and file paths otherwise (Node only; in browsers they are fetched as relative URLs).
 */
export type ImageInput = string | URL | Uint8Array | ArrayBuffer | ArrayBufferView | Blob | ImageDataLike | DrawableImage | RawPixels;

const URL_SCHEME = /^(https?|data|blob|file):/i;

async function fetchBytes(url: string | URL, options: ResolvedLoadImageOptions): Promise<Uint8Array> {
  const fetchImplementation = options.fetch ?? globalThis.fetch;
  if (typeof fetchImplementation !== 'function') throw new InvalidInputError(`cannot fetch ${String(url)}: no fetch in this environment`);
  let response: Response;
  try {
    response = await fetchImplementation(url, options.signal ? { signal: options.signal } : {});
  } catch (error) {
    if (options.signal?.aborted) throw toAbortError(options.signal.reason);
    throw new InvalidInputError(`fetching image ${String(url)} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (!response.ok) {
    throw new InvalidInputError(`fetching image ${String(url)} failed: HTTP ${response.status} ${response.statusText}`.trim(), {
      details: { status: response.status },
    });
  }
  return new Uint8Array(await response.arrayBuffer());
}

async function readFile(path: string | URL): Promise<Uint8Array> {
  const files = hostFileAccess();
  if (!files) throw new InvalidInputError(`cannot read image file ${String(path)}: this platform has no local files (pass bytes, a Blob or a URL)`);
  try {
    return await files.readFile(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error);
    throw new InvalidInputError(`cannot read image file ${String(path)}: ${why}`, { cause: error, details: { path: String(path), code } });
  }
}

async function bytesOf(input: string | URL | Blob, options: ResolvedLoadImageOptions): Promise<[Uint8Array, string]> {
  if (typeof input === 'string' || input instanceof URL) {
    const text = String(input);
    const isFile = input instanceof URL ? input.protocol === 'file:' : /^file:/i.test(text) || (!URL_SCHEME.test(text) && hostFileAccess() !== undefined);
    if (isFile) return [await readFile(input instanceof URL || /^file:/i.test(text) ? new URL(text) : text), `Image file ${text}`];
    const label = text.startsWith('data:') ? 'Image data URL' : `Image at ${text}`;
    return [await fetchBytes(input, options), label];
  }
  return [new Uint8Array(await input.arrayBuffer()), 'Image Blob'];
}

/**
 * Any supported input → upright RGB8 (`{ width, height, data }`, 3 bytes a pixel, row-major).
 * Encoded files are decoded with Pillow-matching decoders (see docs/images.md); bombs are refused
 * from the header before decoding; every failure is an InvalidInputError saying what was received.
 */
export async function loadImage(input: ImageInput, options?: LoadImageOptions): Promise<RgbImage> {
  const resolved = parseLoadImageOptions(options);
  return applyAlpha(await loadImagePixels(input, options), resolved.background);
}

/** As loadImage, but before the alpha rule: the alpha channel, when the input has one, is kept (masks read it). */
export async function loadImagePixels(input: ImageInput, options?: LoadImageOptions): Promise<DecodedPixels> {
  const resolved = parseLoadImageOptions(options);
  throwIfAborted(resolved.signal);
  const settings: DecodeSettings = {
    maxPixels: resolved.maxPixels,
    orientation: resolved.orientation,
    ...(resolved.background ? { background: resolved.background } : {}),
  };
  const checkSize = (what: string) => (width: number, height: number) => assertWithinPixelLimit(width, height, settings.maxPixels, what);

  try {
    if (input instanceof Uint8Array) return await decodeImagePixels(input, settings, 'Image bytes');
    if (input instanceof ArrayBuffer) return await decodeImagePixels(new Uint8Array(input), settings, 'Image bytes');
    if (ArrayBuffer.isView(input)) {
      const view = input as ArrayBufferView;
      return await decodeImagePixels(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), settings, 'Image bytes');
    }
    if (typeof input === 'string' || input instanceof URL || (typeof Blob !== 'undefined' && input instanceof Blob)) {
      const [bytes, what] = await bytesOf(input as string | URL | Blob, resolved);
      throwIfAborted(resolved.signal);
      return await decodeImagePixels(bytes, settings, what);
    }
    if (typeof input === 'object' && input !== null) {
      if (isRawPixels(input)) {
        checkSize('Raw pixels')(input.width, input.height);
        return rawToPixels(input);
      }
      if (isImageDataLike(input)) {
        checkSize('ImageData')(input.width, input.height);
        return imageDataToPixels(input);
      }
      if (isDrawable(input)) return drawableToPixels(input, checkSize('Drawable image'));
    }
  } catch (error) {
    if (UniPicError.isInstance(error)) throw error;
    throw new InvalidInputError(`image input could not be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const kind = input === null ? 'null' : typeof input === 'object' ? (input.constructor?.name ?? 'object') : typeof input;
  throw new InvalidInputError(
    `unsupported image input (${kind}); pass a path, URL, bytes, Blob, ImageData, canvas, ImageBitmap or { data, width, height, channels }`,
  );
}
