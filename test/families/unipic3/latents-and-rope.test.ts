import { describe, expect, it } from 'vitest';
import { budgetSizes, roundHalfEven, visionSize } from '../../../src/families/unipic3/latents/input-sizing.js';
import { packLatents, unpackLatents } from '../../../src/families/unipic3/latents/pack-latents.js';
import { qwenRopeTables } from '../../../src/families/unipic3/latents/rope-tables.js';
import { golden, goldenInt64, unipic3Index } from './support/unipic3-fixtures.js';

const GRIDS = [
  { height: 3, width: 4 },
  { height: 2, width: 3 },
  { height: 3, width: 3 },
];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('UniPic-3 latent packing (vs diffusers _pack_latents)', () => {
  it('packs each image and unpacks back', () => {
    for (let i = 0; i < GRIDS.length; i++) {
      const latent = golden(`transformer.latent_${i}`);
      const [, channels, height, width] = latent.shape;
      const packed = packLatents(latent.data, channels, height, width);
      expect(Array.from(packed)).toEqual(Array.from(golden(`transformer.packed_${i}`).data));
      expect(Array.from(unpackLatents(packed, channels, height, width))).toEqual(Array.from(latent.data));
    }
  });

  it('refuses odd grids', () => {
    expect(() => packLatents(new Float32Array(12), 4, 3, 1)).toThrow(/even/);
  });
});

describe('UniPic-3 rotary tables (vs diffusers QwenEmbedRope)', () => {
  it('two references: centred h/w, frame index per image, text after max_vid_index', () => {
    const tables = qwenRopeTables(GRIDS, 5, [8, 4, 4]);
    expect(tables.textOffset).toBe((unipic3Index.report.rope_max_vid_index as { two_images: number }).two_images);
    expect(maxAbsDiff(tables.imageCos, golden('transformer.rope_image_cos').data)).toBeLessThan(1e-6);
    expect(maxAbsDiff(tables.imageSin, golden('transformer.rope_image_sin').data)).toBeLessThan(1e-6);
    expect(maxAbsDiff(tables.textCos, golden('transformer.rope_text_cos').data)).toBeLessThan(1e-6);
    expect(maxAbsDiff(tables.textSin, golden('transformer.rope_text_sin').data)).toBeLessThan(1e-6);
  });

  it('one reference', () => {
    const tables = qwenRopeTables(GRIDS.slice(0, 2), 5, [8, 4, 4]);
    expect(maxAbsDiff(tables.imageCos, golden('transformer.one_image.rope_image_cos').data)).toBeLessThan(1e-6);
    expect(maxAbsDiff(tables.textSin, golden('transformer.one_image.rope_text_sin').data)).toBeLessThan(1e-6);
  });

  it('published axes 16/56/56 with text rows up to 331', () => {
    const tables = qwenRopeTables(
      [
        { height: 5, width: 7 },
        { height: 64, width: 3 },
      ],
      300,
      [16, 56, 56],
    );
    expect(tables.textOffset).toBe(32);
    expect(maxAbsDiff(tables.imageCos.subarray(0, 35 * 64), golden('transformer.rope_real.image_cos').data)).toBeLessThan(1e-6);
    expect(maxAbsDiff(tables.imageSin.subarray(0, 35 * 64), golden('transformer.rope_real.image_sin').data)).toBeLessThan(1e-6);
    expect(maxAbsDiff(tables.textCos, golden('transformer.rope_real.text_cos').data)).toBeLessThan(1e-5);
    expect(maxAbsDiff(tables.textSin, golden('transformer.rope_real.text_sin').data)).toBeLessThan(1e-5);
  });

  it('refuses positions beyond the 4096-row table', () => {
    expect(() => qwenRopeTables([{ height: 64, width: 64 }], 4096 - 31, [16, 56, 56])).toThrow(/4096/);
  });
});

describe('UniPic-3 input sizing (1024² shared budget, multiples of 32)', () => {
  it('matches the official formula for 1–6 inputs', () => {
    for (let i = 0; i < 6; i++) {
      const flat = goldenInt64(`sizing.case_${i}.inputs`);
      const inputs = Array.from({ length: flat.length / 2 }, (_, k) => ({ width: flat[2 * k], height: flat[2 * k + 1] }));
      const sizes = budgetSizes(inputs);
      expect(sizes.flatMap((s) => [s.width, s.height])).toEqual(goldenInt64(`sizing.case_${i}.vae_sizes`));
      expect(
        sizes.flatMap((s) => {
          const v = visionSize(s);
          return [v.width, v.height];
        }),
      ).toEqual(goldenInt64(`sizing.case_${i}.vl_sizes`));
    }
  });

  it('rounds halves to even like Python and refuses 0 or 7 images', () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4999].map(roundHalfEven)).toEqual([0, 2, 2, 4, 2]);
    expect(() => budgetSizes([])).toThrow(/1–6/);
    expect(() => budgetSizes(new Array(7).fill({ width: 64, height: 64 }))).toThrow(/1–6/);
  });
});
