import { describe, expect, it } from 'vitest';
import { resizeBilinear } from '../../../src/families/unipic1/mar/bilinear-resize.js';
import {
  buildPositionTables,
  interpolatePositionTable,
  readLearnedPositionTables,
  POSITION_TABLE_KEYS,
} from '../../../src/families/unipic1/convert/position-tables.js';
import { MemoryWeights } from '../../../src/convert/graphs/weights.js';
import { InvalidModelError } from '../../../src/errors/invalid-model-error.js';
import tinyConfig from '../../../src/families/unipic1/convert/tiny/tiny-config.json';

/** Deterministic pseudo-random values in [-1, 1) (a small LCG, so tests need no seed plumbing). */
function randomValues(count: number, seed: number): Float64Array {
  const out = new Float64Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

/**
 * Independent oracle: a dense 1-D interpolation matrix built from the triangle (tent) kernel on
 * the half-pixel source coordinate clamped to [0, in−1], applied separably as A_h · X · A_wᵀ.
 * This is the textbook definition, not the two-tap loop the implementation uses.
 */
function tentMatrix(sourceSize: number, targetSize: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < targetSize; i++) {
    const coordinate = Math.min(Math.max(((i + 0.5) * sourceSize) / targetSize - 0.5, 0), sourceSize - 1);
    rows.push(Array.from({ length: sourceSize }, (_, j) => Math.max(0, 1 - Math.abs(coordinate - j))));
  }
  return rows;
}

function referenceResize(
  values: ArrayLike<number>,
  source: { height: number; width: number },
  target: { height: number; width: number },
  channels: number,
): Float64Array {
  const heightMatrix = tentMatrix(source.height, target.height);
  const widthMatrix = tentMatrix(source.width, target.width);
  const out = new Float64Array(target.height * target.width * channels);
  for (let y = 0; y < target.height; y++)
    for (let x = 0; x < target.width; x++)
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let sy = 0; sy < source.height; sy++)
          for (let sx = 0; sx < source.width; sx++) sum += heightMatrix[y][sy] * widthMatrix[x][sx] * values[(sy * source.width + sx) * channels + c];
        out[(y * target.width + x) * channels + c] = sum;
      }
  return out;
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('resizeBilinear (align_corners=False)', () => {
  it('matches hand-computed PyTorch results on small cases', () => {
    // F.interpolate([[1, 2]], size=4, bilinear) = [1, 1.25, 1.75, 2] (edges clamp).
    expect(Array.from(resizeBilinear([1, 2], { height: 1, width: 2 }, { height: 1, width: 4 }, 1))).toEqual([1, 1.25, 1.75, 2]);
    // Halving averages neighbour pairs: source coordinates 0.5 and 2.5.
    expect(Array.from(resizeBilinear([1, 3, 10, 20], { height: 4, width: 1 }, { height: 2, width: 1 }, 1))).toEqual([2, 15]);
    // 2×2 → 3×3: coordinates 0, 0.5, 1 on each axis.
    expect(Array.from(resizeBilinear([1, 2, 3, 4], { height: 2, width: 2 }, { height: 3, width: 3 }, 1))).toEqual([1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
  });

  it('is the exact identity at the same size', () => {
    const values = randomValues(5 * 7 * 3, 1);
    expect(Array.from(resizeBilinear(values, { height: 5, width: 7 }, { height: 5, width: 7 }, 3))).toEqual(Array.from(values));
  });

  it.each([
    [4, 4, 8, 8],
    [4, 4, 16, 16],
    [32, 32, 64, 64],
    [5, 3, 7, 11],
    [8, 8, 3, 5],
  ])('matches the separable tent-kernel oracle for %i×%i → %i×%i', (sh, sw, th, tw) => {
    const channels = sh === 32 ? 2 : 3;
    const values = randomValues(sh * sw * channels, sh * 100 + th);
    const got = resizeBilinear(values, { height: sh, width: sw }, { height: th, width: tw }, channels);
    const expected = referenceResize(values, { height: sh, width: sw }, { height: th, width: tw }, channels);
    // Both float64; only summation order differs.
    expect(maxAbsDifference(got, expected)).toBeLessThan(1e-12);
  });

  it('reproduces a plane exactly away from the clamped border', () => {
    // Bilinear interpolation is exact on affine functions wherever no tap is clamped.
    const source = { height: 6, width: 6 };
    const plane = (y: number, x: number): number => 0.3 + 1.7 * y - 0.9 * x;
    const values = Array.from({ length: 36 }, (_, i) => plane(Math.floor(i / 6), i % 6));
    const out = resizeBilinear(values, source, { height: 12, width: 12 }, 1);
    for (let y = 1; y < 11; y++)
      for (let x = 1; x < 11; x++) {
        expect(out[y * 12 + x]).toBeCloseTo(plane((y + 0.5) / 2 - 0.5, (x + 0.5) / 2 - 0.5), 12);
      }
  });

  it('rejects inconsistent sizes', () => {
    expect(() => resizeBilinear([1, 2, 3], { height: 2, width: 2 }, { height: 4, width: 4 }, 1)).toThrow(/expected 4/);
    expect(() => resizeBilinear([1], { height: 1, width: 1 }, { height: 0, width: 4 }, 1)).toThrow(/positive/);
  });
});

describe('position tables', () => {
  const bufferSize = tinyConfig.mar.buffer_size;
  const nativeGrid = tinyConfig.mar.img_size / tinyConfig.mar.vae_stride;
  const encoderWidth = tinyConfig.mar.encoder_embed_dim;
  const decoderWidth = tinyConfig.mar.decoder_embed_dim;
  const layout = { bufferSize, nativeGrid, encoderWidth, decoderWidth };
  const positions = nativeGrid * nativeGrid;
  const learned = {
    encoder: Float32Array.from(randomValues((bufferSize + positions) * encoderWidth, 11)),
    decoder: Float32Array.from(randomValues((bufferSize + positions) * decoderWidth, 12)),
    diffusion: Float32Array.from(randomValues(positions * decoderWidth, 13)),
  };

  it('keeps the buffer rows and resizes the image rows for every tiny resolution', () => {
    for (const size of tinyConfig.resolutions) {
      const grid = size / tinyConfig.mar.vae_stride;
      const tables = buildPositionTables(learned, layout, grid);
      const n = grid * grid;
      expect(tables.encoderPos.length).toBe((bufferSize + n) * encoderWidth);
      expect(tables.decoderPos.length).toBe((bufferSize + n) * decoderWidth);
      expect(tables.diffusionPos.length).toBe(n * decoderWidth);
      expect(Array.from(tables.encoderPos.subarray(0, bufferSize * encoderWidth))).toEqual(Array.from(learned.encoder.subarray(0, bufferSize * encoderWidth)));
      expect(Array.from(tables.decoderPos.subarray(0, bufferSize * decoderWidth))).toEqual(Array.from(learned.decoder.subarray(0, bufferSize * decoderWidth)));
      const native = { height: nativeGrid, width: nativeGrid };
      const target = { height: grid, width: grid };
      const cases: [Float32Array, ArrayLike<number>, number, number][] = [
        [tables.encoderPos, learned.encoder, bufferSize, encoderWidth],
        [tables.decoderPos, learned.decoder, bufferSize, decoderWidth],
        [tables.diffusionPos, learned.diffusion, 0, decoderWidth],
      ];
      for (const [table, source, buffers, width] of cases) {
        const expected = referenceResize(Array.from(source).slice(buffers * width), native, target, width);
        // Stored float32: one rounding of a float64 result, so within half an ulp (≤ 2^-24 relative).
        const image = table.subarray(buffers * width);
        for (let i = 0; i < expected.length; i++) {
          expect(Math.abs(image[i] - expected[i])).toBeLessThanOrEqual(Math.abs(expected[i]) * 2 ** -24 + 1e-45);
        }
      }
    }
  });

  it('returns the learned tables unchanged at the native grid', () => {
    const tables = buildPositionTables(learned, layout, nativeGrid);
    expect(Array.from(tables.encoderPos)).toEqual(Array.from(learned.encoder));
    expect(Array.from(tables.diffusionPos)).toEqual(Array.from(learned.diffusion));
  });

  it('reads the learned tables from checkpoint keys and checks their shapes', () => {
    const weights = new MemoryWeights({
      [POSITION_TABLE_KEYS.encoder]: { shape: [1, bufferSize + positions, encoderWidth], data: learned.encoder },
      [POSITION_TABLE_KEYS.decoder]: { shape: [1, bufferSize + positions, decoderWidth], data: learned.decoder },
      [POSITION_TABLE_KEYS.diffusion]: { shape: [1, positions, decoderWidth], data: learned.diffusion },
    });
    const read = readLearnedPositionTables(weights, layout);
    expect(Array.from(read.decoder)).toEqual(Array.from(learned.decoder));
    expect(() => readLearnedPositionTables(weights, { ...layout, nativeGrid: 5 })).toThrow(InvalidModelError);
  });

  it('rejects a table whose length does not fit the layout', () => {
    expect(() =>
      interpolatePositionTable(new Float32Array(11), {
        bufferRows: 1,
        native: { height: 2, width: 2 },
        target: { height: 3, width: 3 },
        channels: 2,
      }),
    ).toThrow(InvalidModelError);
  });
});
