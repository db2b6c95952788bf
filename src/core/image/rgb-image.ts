/** 8-bit RGB pixels, row-major, 3 bytes a pixel: what every input becomes before preprocessing. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** 8-bit RGBA pixels, row-major, alpha 255: what the decoder output becomes (ImageData-ready). */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

/**
 * A decoder's result before the alpha rule is applied. `alpha` is present only when the source
 * had an alpha channel; colour under transparent pixels is kept as stored, like Pillow does.
 */
export interface DecodedPixels {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
  readonly alpha?: Uint8Array;
}

export function rgbImage(width: number, height: number, data?: Uint8Array): RgbImage {
  const length = width * height * 3;
  if (data && data.length !== length) {
    throw new RangeError(`RGB data has ${data.length} bytes, ${width}x${height} needs ${length}`);
  }
  return { width, height, data: data ?? new Uint8Array(length) };
}
