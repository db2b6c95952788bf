import { describe, expect, it } from 'vitest';
import { imageRaster, isMaskGrid, loadMask, type MaskRaster } from '../../../src/core/region/mask-input.js';
import { parseOutpaintSpec, resolveOutpaintCanvas } from '../../../src/core/region/outpaint-canvas.js';
import { checkMaskAspect, cropFrame, dilate, expandFrame, tokenMask } from '../../../src/core/region/token-mask.js';
import { blendWeights, distanceToSet } from '../../../src/core/region/composite.js';
import { seedRegion } from '../../../src/families/unipic1/generation/known-region.js';
import { SeededRandom } from '../../../src/core/random/random-source.js';

function raster(width: number, height: number, masked: (x: number, y: number) => boolean): MaskRaster {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = masked(x, y) ? 1 : 0;
  return { width, height, masked: data };
}

const tokens = (mask: Uint8Array, grid: number) => Array.from({ length: grid }, (_, r) => Array.from(mask.subarray(r * grid, (r + 1) * grid)).join('')).join('/');
const square = (side: number) => ({ x: 0, y: 0, width: side, height: side });

describe('mask → token grid', () => {
  it('default rule: a token regenerates when any of its pixels is masked', () => {
    // One masked pixel at (17, 0) of a 64×64 mask: token (0, 1) only.
    const mask = raster(64, 64, (x, y) => x === 17 && y === 0);
    expect(tokens(tokenMask({ frame: cropFrame(64, 64), grid: 4, image: square(64), mask, threshold: 0, dilation: 0 }), 4)).toBe('0100/0000/0000/0000');
  });

  it('threshold: the masked fraction must exceed it', () => {
    // The left 4 of 16 columns of token (0,0) masked: fraction 0.25.
    const mask = raster(64, 64, (x, y) => x < 4 && y < 16);
    const at = (threshold: number) => tokens(tokenMask({ frame: cropFrame(64, 64), grid: 4, image: square(64), mask, threshold, dilation: 0 }), 4);
    expect(at(0.2)).toBe('1000/0000/0000/0000');
    expect(at(0.25)).toBe('0000/0000/0000/0000');
  });

  it('a coarse mask is stretched over the image, partial pixels counted by area', () => {
    // A 3×3 mask over 64 px: its centre pixel covers 21.33..42.67 px, touching tokens 1 and 2 on each axis.
    const mask = raster(3, 3, (x, y) => x === 1 && y === 1);
    expect(tokens(tokenMask({ frame: cropFrame(64, 64), grid: 4, image: square(64), mask, threshold: 0, dilation: 0 }), 4)).toBe('0000/0110/0110/0000');
    // Token (1,1) spans 16..32: 32 − 21.33 = 10.67 px of 16 on each axis, fraction 0.444.
    expect(tokens(tokenMask({ frame: cropFrame(64, 64), grid: 4, image: square(64), mask, threshold: 0.44, dilation: 0 }), 4)).toBe('0000/0110/0110/0000');
    expect(tokens(tokenMask({ frame: cropFrame(64, 64), grid: 4, image: square(64), mask, threshold: 0.45, dilation: 0 }), 4)).toBe('0000/0000/0000/0000');
  });

  it('shared edges do not count: a mask aligned to token borders marks exactly its tokens', () => {
    const mask = raster(12, 12, (x) => x >= 6); // right half, at a third of the scale
    expect(tokens(tokenMask({ frame: cropFrame(64, 64), grid: 4, image: square(64), mask, threshold: 0, dilation: 0 }), 4)).toBe('0011/0011/0011/0011');
  });

  it('the crop2square geometry cuts the mask like the image', () => {
    // 96×64 image: the model sees x 16..80. A mask of x < 16 is cropped away entirely.
    const image = { x: 0, y: 0, width: 96, height: 64 };
    const left = raster(96, 64, (x) => x < 16);
    expect(tokens(tokenMask({ frame: cropFrame(96, 64), grid: 4, image, mask: left, threshold: 0, dilation: 0 }), 4)).toBe('0000/0000/0000/0000');
    const mid = raster(96, 64, (x) => x >= 16 && x < 32);
    expect(tokens(tokenMask({ frame: cropFrame(96, 64), grid: 4, image, mask: mid, threshold: 0, dilation: 0 }), 4)).toBe('1000/1000/1000/1000');
  });

  it('outpaint: area off the image is masked, the expand2square padding too', () => {
    // 64×48 canvas, image 48×48 at (0, 0): square side 64 at top −8.
    const frame = expandFrame(64, 48);
    expect(frame).toEqual({ left: 0, top: -8, side: 64 });
    expect(tokens(tokenMask({ frame, grid: 4, image: { x: 0, y: 0, width: 48, height: 48 }, threshold: 0, dilation: 0 }), 4)).toBe('1111/0001/0001/1111');
  });

  it('dilation grows by whole tokens, diagonals included', () => {
    const one = new Uint8Array(25);
    one[12] = 1;
    expect(tokens(dilate(one, 5, 1), 5)).toBe('00000/01110/01110/01110/00000');
    expect(tokens(dilate(one, 5, 0), 5)).toBe('00000/00000/00100/00000/00000');
  });

  it('aspect ratio: 1 % tolerance', () => {
    expect(() => checkMaskAspect({ width: 201, height: 200, masked: new Uint8Array(0) }, 1000, 1000)).not.toThrow();
    expect(() => checkMaskAspect({ width: 103, height: 100, masked: new Uint8Array(0) }, 1000, 1000)).toThrow(/aspect ratio/);
  });
});

describe('mask inputs', () => {
  it('images: grey × opacity ≥ half means masked; all-transparent is refused', () => {
    const rgb = Uint8Array.from([255, 255, 255, 255, 255, 255, 0, 0, 0, 128, 128, 128]);
    expect(Array.from(imageRaster({ width: 4, height: 1, rgb }).masked)).toEqual([1, 1, 0, 1]);
    expect(Array.from(imageRaster({ width: 4, height: 1, rgb, alpha: Uint8Array.from([255, 100, 255, 255]) }).masked)).toEqual([1, 0, 0, 1]);
    expect(() => imageRaster({ width: 4, height: 1, rgb, alpha: new Uint8Array(4) })).toThrow(/fully transparent/);
  });

  it('grids: booleans or [0, 1] numbers, ≥ 0.5 masked; an ImageData of the same keys is an image', async () => {
    expect(Array.from((await loadMask({ width: 3, height: 1, data: [true, 0.49, 0.5] })).masked)).toEqual([1, 0, 1]);
    expect(isMaskGrid({ width: 1, height: 1, data: new Uint8ClampedArray(4) })).toBe(false);
    expect(isMaskGrid({ width: 2, height: 2, data: new Uint8Array(4) })).toBe(true);
    const image = await loadMask({ width: 1, height: 1, data: new Uint8ClampedArray([255, 255, 255, 255]) });
    expect(Array.from(image.masked)).toEqual([1]);
  });
});

describe('outpaint canvas', () => {
  it('margins and placements', () => {
    expect(resolveOutpaintCanvas(512, 512, { right: 256 })).toEqual({ width: 768, height: 512, x: 0, y: 0 });
    expect(resolveOutpaintCanvas(512, 512, { left: 64, top: 32 })).toEqual({ width: 576, height: 544, x: 64, y: 32 });
    expect(resolveOutpaintCanvas(512, 512, { left: 0, top: 100, width: 1024, height: 768 })).toEqual({ width: 1024, height: 768, x: 0, y: 100 });
    expect(resolveOutpaintCanvas(512, 512, { width: 1024 })).toEqual({ width: 1024, height: 512, x: 256, y: 0 });
    expect(resolveOutpaintCanvas(512, 512, { right: 10, width: 600 })).toEqual({ width: 600, height: 512, x: 78, y: 0 });
    expect(() => resolveOutpaintCanvas(512, 512, { left: 10, width: 500 })).toThrow(/does not fit/);
    expect(() => resolveOutpaintCanvas(512, 512, { left: 0 })).toThrow(/adds nothing/);
  });

  it('the CLI form', () => {
    expect(parseOutpaintSpec('right:256')).toEqual({ right: 256 });
    expect(parseOutpaintSpec('left:64, top=32')).toEqual({ left: 64, top: 32 });
    expect(() => parseOutpaintSpec('up:5')).toThrow(/cannot read "up:5"/);
    expect(() => parseOutpaintSpec('')).toThrow(/at least one/);
  });
});

describe('compositing weights', () => {
  it('exact Euclidean distance', () => {
    const set = new Uint8Array(25);
    set[0] = 1;
    const d = distanceToSet(set, 5, 5);
    expect(d[24]).toBeCloseTo(Math.hypot(4, 4), 12);
    expect(d[3]).toBe(3);
  });

  it('1 on regenerated tokens, a linear ramp of `feather` pixels outside, 0 beyond', () => {
    const mask = Uint8Array.from([1, 0, 0, 1]); // 2×2 tokens over 8 px: top-left 4×4 block
    const w = blendWeights(mask, 2, 8, 2);
    expect(w[0]).toBe(1);
    expect(w[3]).toBe(1);
    expect(w[4]).toBeCloseTo(1 - 1 / 3, 6);
    expect(w[5]).toBeCloseTo(1 - 2 / 3, 6);
    expect(w[6]).toBe(0);
    expect(Array.from(blendWeights(mask, 2, 8, 0).subarray(0, 8))).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
  });
});

describe('known-token seeding', () => {
  it('orders permute the masked positions only; a full mask draws what a plain loop draws', () => {
    const mask = Uint8Array.from([0, 1, 1, 0, 1, 0]);
    const latents = Float32Array.from({ length: 12 }, (_, i) => i + 1);
    const seeded = seedRegion({ mask, latents }, new SeededRandom(3), 2, 6, 2);
    for (const order of seeded.orders) expect([...order].sort()).toEqual([1, 2, 4]);
    expect(seeded.maskedCount).toBe(3);
    expect(Array.from(seeded.tokens.subarray(0, 12))).toEqual([1, 2, 0, 0, 0, 0, 7, 8, 0, 0, 11, 12]);
    const full = seedRegion({ mask: new Uint8Array(6).fill(1), latents }, new SeededRandom(3), 2, 6, 2);
    const plain = seedRegion(undefined, new SeededRandom(3), 2, 6, 2);
    expect(full.orders).toEqual(plain.orders);
    expect(full.tokens).toEqual(plain.tokens);
  });
});
