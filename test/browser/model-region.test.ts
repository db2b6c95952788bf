import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImage } from '../../src/core/image/load-image.js';
import { UniPic } from '../../src/index.node.js';
import { tinyModelDir } from '../support/tiny-model.js';
import { PIXEL_MAX_DIFFERENCE, PIXEL_MEAN_DIFFERENCE } from './support/compare-outcomes.js';
import { callPage, startModelSite, type ModelSite } from './support/model-site.js';
import { INPUT_IMAGE_FIXTURE, pixelDifference } from './support/reference-calls.js';
import { runRegion, type RegionOutcome } from './support/region-call.js';

const INPUT = new Uint8Array(readFileSync(fileURLToPath(new URL(`../fixtures/images/sources/${INPUT_IMAGE_FIXTURE}`, import.meta.url))));

/** Region editing in Chromium (wasm): a Blob mask, the Node CPU result, the source kept outside the mask. */
describe('region editing in the built package in Chromium, wasm', () => {
  let site: ModelSite;
  let reference: RegionOutcome;
  let inPage: RegionOutcome | undefined;

  beforeAll(async () => {
    const nodeReference = async () => {
      const model = await UniPic.load(await tinyModelDir(['fp32']), { device: 'cpu', dtype: 'fp32' });
      try {
        return await runRegion(model as unknown as Parameters<typeof runRegion>[0], INPUT);
      } finally {
        await model.dispose();
      }
    };
    [site, reference] = await Promise.all([startModelSite(), nodeReference()]);
  }, 180_000);

  afterAll(async () => {
    await site?.close();
  });

  it('edit with a PNG Blob mask matches Node, keeps the unmasked half, and refuses a non-image mask with its problem', async () => {
    const page = await site.openPage();
    const run = await callPage<RegionOutcome>(site, page, 'regionInPage', site.modelUrl);
    await page.close();
    expect([run.width, run.height]).toEqual([64, 64]);
    expect(run.predicting).toEqual(reference.predicting);
    const difference = pixelDifference(run.pixels, reference.pixels);
    expect(difference.max).toBeLessThanOrEqual(PIXEL_MAX_DIFFERENCE);
    expect(difference.mean).toBeLessThanOrEqual(PIXEL_MEAN_DIFFERENCE);
    const source = await loadImage(INPUT);
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) expect(run.pixels[(y * 64 + x) * 4 + c]).toBe(source.data[(y * 64 + x) * 3 + c]);
    }
    expect(run.badMask).toEqual({ code: 'INVALID_INPUT', problem: 'mask-unreadable' });
    expect(reference.badMask).toEqual(run.badMask);
    inPage = run;
  }, 180_000);

  it('the same through a worker, bit for bit as in the page', async () => {
    const page = await site.openPage();
    const inWorker = await callPage<RegionOutcome>(site, page, 'regionInWorker', site.modelUrl);
    await page.close();
    // Same wasm kernels, threads and seed: the worker reproduces the page bit for bit.
    expect(inPage, 'the page run (previous test) must have passed').toBeDefined();
    expect(inWorker.pixels).toEqual(inPage?.pixels);
    expect(inWorker.badMask).toEqual({ code: 'INVALID_INPUT', problem: 'mask-unreadable' });
  }, 240_000);
});
