import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RandomSource } from '../../../src/core/random/random-source.js';
import { replayDraws } from '../support/diffusion-replay.js';
import { convertKontextCheckpoint } from '../../../src/families/unipic2-kontext/convert/convert-kontext.js';
import { UniPic } from '../../../src/index.node.js';
import type { KontextTasks } from '../../../src/families/unipic2-kontext/runtime.js';
import type { UniPicModel } from '../../../src/core/model/unipic-model.js';
import type { KontextRunEvent } from '../../../src/families/unipic2-kontext/pipeline/kontext-events.js';
import { freshDir, goldenError, goldenFloat, goldenUint8, kontextIndex, TINY_CHECKPOINT } from './support/kontext-fixtures.js';

/**
 * Whole 3-step runs against the oracle (test/fixtures/kontext, `run_*`), noise injected: the final
 * latent within 1e-4 · max(1, max|e|), every pixel equal or off by one.
 */
const SOURCE_IMAGE = fileURLToPath(new URL('../../fixtures/images/sources/rgb-300x200.png', import.meta.url));
let model: UniPicModel<KontextTasks>;

beforeAll(async () => {
  const out = freshDir('sampler');
  await convertKontextCheckpoint(TINY_CHECKPOINT, out, { dtypes: ['fp32'] });
  model = await UniPic.load(out, { family: 'unipic2-kontext', device: 'cpu', dtype: 'fp32', threads: 1 });
});

afterAll(async () => {
  await model?.dispose();
});

function replay(run: string, eps?: string): RandomSource {
  return replayDraws((purpose) => {
    const name = purpose.kind === 'initial-latent' ? `run.${run}.noise` : purpose.kind === 'posterior-sample' && eps ? eps : undefined;
    return name ? goldenFloat(name).data : undefined;
  });
}

function maxPixelDifference(rgba: Uint8ClampedArray, rgb: Uint8Array): number {
  let worst = 0;
  for (let i = 0; i < rgb.length / 3; i++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(rgba[i * 4 + c] - rgb[i * 3 + c]));
  return worst;
}

describe('Kontext sampler runs vs the oracle', () => {
  it('guidance 1 turns CFG off (one row, no negative prompt): t2i_h32w32_cfg1', async () => {
    const run = 't2i_h32w32_cfg1';
    const result = await model.generate({ prompt: kontextIndex.runs[run].prompt, steps: 3, width: 32, height: 32, guidance: 1, random: replay(run) }).result;
    expect(goldenError(result.latent.data, goldenFloat(`run.${run}.latent`).data)).toBeLessThan(1e-4);
    expect(maxPixelDifference(result.images[0].data, goldenUint8(`run.${run}.pixels`).data)).toBeLessThanOrEqual(1);
  });

  for (const run of ['t2i_h64w48', 't2i_h32w32', 't2i_h32w32_no_t5']) {
    it(`text-to-image ${run}`, async () => {
      const info = kontextIndex.runs[run];
      const events: KontextRunEvent[] = [];
      const handle = model.generate({
        prompt: info.prompt,
        negativePrompt: info.negativePrompt,
        steps: 3,
        width: info.width,
        height: info.height,
        t5: !run.endsWith('no_t5'),
        random: replay(run),
      });
      for await (const event of handle) events.push(event);
      const result = await handle.result;
      expect(events.filter((e) => e.type === 'step-finish').map((e) => (e as { step: number }).step)).toEqual([0, 1, 2]);
      expect(events.at(-1)?.type).toBe('finish');
      expect(goldenError(result.latent.data, goldenFloat(`run.${run}.latent`).data)).toBeLessThan(1e-4);
      expect(maxPixelDifference(result.images[0].data, goldenUint8(`run.${run}.pixels`).data)).toBeLessThanOrEqual(1);
    });
  }

  for (const [run, reference, eps] of [
    ['edit_h48w64', 'mean', undefined],
    ['edit_h48w64_sampled', 'sample', 'vae.encode.eps'],
  ] as const) {
    it(`edit ${run} (reference: posterior ${reference})`, async () => {
      const info = kontextIndex.runs[run];
      const handle = model.edit({
        image: SOURCE_IMAGE,
        prompt: info.prompt,
        steps: 3,
        longerEdge: 64,
        sizeMultiple: 16,
        reference,
        random: replay(run, eps),
      });
      const result = await handle.result;
      expect([result.width, result.height]).toEqual([64, 48]);
      expect(goldenError(result.latent.data, goldenFloat(`run.${run}.latent`).data)).toBeLessThan(1e-4);
      expect(maxPixelDifference(result.images[0].data, goldenUint8(`run.${run}.pixels`).data)).toBeLessThanOrEqual(1);
    });
  }
});
