import { InvalidInputError } from '../../errors/invalid-input-error.js';
import type { DecodedPixels } from './rgb-image.js';
import { rgbaToPixels } from './rgba-to-pixels.js';

/** Raw pixels the caller already has: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA; 8 bits a sample, row-major. */
export interface RawPixels {
  readonly data: Uint8Array | Uint8ClampedArray | readonly number[];
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
}

/** Structural ImageData (browsers' class, or any { data, width, height } holding RGBA). */
export interface ImageDataLike {
  readonly data: Uint8ClampedArray | Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** What browsers can draw: ImageBitmap, HTMLCanvasElement, OffscreenCanvas, HTMLImageElement, VideoFrame… */
export type DrawableImage = ImageBitmap | HTMLCanvasElement | OffscreenCanvas | HTMLImageElement;

export function isRawPixels(value: object): value is RawPixels {
  return 'channels' in value && 'data' in value && 'width' in value && 'height' in value;
}

export function isImageDataLike(value: object): value is ImageDataLike {
  const data = (value as ImageDataLike).data;
  return (data instanceof Uint8ClampedArray || data instanceof Uint8Array) && typeof (value as ImageDataLike).width === 'number';
}

export function isDrawable(value: object): value is DrawableImage {
  const candidate = value as { width?: unknown; naturalWidth?: unknown; getContext?: unknown; close?: unknown };
  return (
    typeof candidate.getContext === 'function' ||
    (typeof candidate.close === 'function' && typeof candidate.width === 'number') ||
    typeof candidate.naturalWidth === 'number'
  );
}

export function rawToPixels(raw: RawPixels): DecodedPixels {
  const { width, height, channels, data } = raw;
  if (![1, 2, 3, 4].includes(channels)) throw new InvalidInputError(`raw pixels need channels 1, 2, 3 or 4, got ${String(channels)}`);
  const count = width * height;
  if (data.length !== count * channels) {
    throw new InvalidInputError(`raw pixels: ${width}×${height}×${channels} needs ${count * channels} values, got ${data.length}`, {
      details: { width, height, channels, length: data.length },
    });
  }
  if (channels === 4) return rgbaToPixels(width, height, data);
  if (channels === 3) return { width, height, rgb: Uint8Array.from(data) };
  const rgb = new Uint8Array(count * 3);
  const alpha = channels === 2 ? new Uint8Array(count) : undefined;
  for (let i = 0; i < count; i++) {
    const grey = data[i * channels];
    rgb[i * 3] = grey;
    rgb[i * 3 + 1] = grey;
    rgb[i * 3 + 2] = grey;
    if (alpha) alpha[i] = data[i * channels + 1];
  }
  return alpha ? { width, height, rgb, alpha } : { width, height, rgb };
}

export function imageDataToPixels(image: ImageDataLike): DecodedPixels {
  const { width, height, data } = image;
  if (data.length !== width * height * 4) {
    throw new InvalidInputError(`ImageData ${width}×${height} needs ${width * height * 4} RGBA bytes, got ${data.length}`);
  }
  return rgbaToPixels(width, height, data);
}

function drawnSize(image: DrawableImage): [number, number] {
  const element = image as HTMLImageElement;
  if (typeof element.naturalWidth === 'number') return [element.naturalWidth, element.naturalHeight];
  return [image.width, image.height];
}

/**
 * Reads a drawable through a 2D canvas. The browser decoded it: pixels follow its decoder and
 * colour management, not Pillow's, and low-alpha colours lose precision (canvases store
 * premultiplied alpha). Pass the file bytes or a Blob instead when parity matters.
 */
export function drawableToPixels(image: DrawableImage, checkSize: (width: number, height: number) => void): DecodedPixels {
  const [width, height] = drawnSize(image);
  checkSize(width, height);
  const canvasLike = image as HTMLCanvasElement | OffscreenCanvas;
  if (typeof canvasLike.getContext === 'function') {
    const own = canvasLike.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
    if (own) return imageDataToPixels(own.getImageData(0, 0, width, height));
  }
  let context: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null = null;
  if (typeof OffscreenCanvas === 'function') {
    context = new OffscreenCanvas(width, height).getContext('2d');
  } else if (typeof document !== 'undefined') {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    context = canvas.getContext('2d');
  }
  if (!context) throw new InvalidInputError('reading an ImageBitmap or canvas needs a 2D canvas, which this environment lacks');
  context.drawImage(image, 0, 0);
  return imageDataToPixels(context.getImageData(0, 0, width, height));
}
