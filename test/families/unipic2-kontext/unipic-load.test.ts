import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UniPic } from '../../../src/index.node.js';
import { convertModel } from '../../../src/convert/index.js';
import type { NoisePurpose, RandomSource } from '../../../src/core/random/random-source.js';
import type { KontextResult } from '../../../src/families/unipic2-kontext/pipeline/kontext-events.js';
import { freshDir, goldenError, goldenFloat, goldenUint8, kontextIndex, TINY_CHECKPOINT } from './support/kontext-fixtures.js';

/**
 * The family through the core's seam: `convertModel` detects the checkpoint, `UniPic.load` reads
 * the manifest's family and offers its tasks, and the runs reproduce the oracle.
 */
const SOURCE_IMAGE = fileURLToPath(new URL('../../fixtures/images/sources/rgb-300x200.png', import.meta.url));
let model: UniPic;
let family: string;

beforeAll(async () => {
  const out = freshDir('load');
  family = (await convertModel(TINY_CHECKPOINT, out, { dtypes: ['fp32'] })).family;
  model = await UniPic.load(out, { device: 'cpu', dtype: 'fp32', threads: 1 });
});

afterAll(async () => {
  await model?.dispose();
});

function replay(run: string): RandomSource {
  return {
    normal: (_count: number, purpose: NoisePurpose) => {
      if (purpose.kind !== 'initial-latent') throw new Error(`unexpected draw ${purpose.kind}`);
      return goldenFloat(`run.${run}.noise`).data;
    },
    order: () => {
      throw new Error('unused');
    },
    uniform: () => {
      throw new Error('unused');
    },
  };
}

function pixelDifference(result: KontextResult, run: string): number {
  const expected = goldenUint8(`run.${run}.pixels`).data;
  let worst = 0;
  for (let i = 0; i < expected.length / 3; i++)
    for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(result.images[0].data[i * 4 + c] - expected[i * 3 + c]));
  return worst;
}

describe('UniPic.load on a Kontext folder', () => {
  it('is detected and offers generate and edit only', () => {
    expect(family).toBe('unipic2-kontext');
    expect([...model.capabilities].sort()).toEqual(['edit', 'generate']);
    expect(() => model.understand({ image: SOURCE_IMAGE } as never)).toThrow(/understand/);
  });

  it('generate and edit reproduce the oracle', async () => {
    const t2i = kontextIndex.runs.t2i_h32w32;
    const generated = (await model.generate({ prompt: t2i.prompt, steps: 3, width: 32, height: 32, random: replay('t2i_h32w32') } as never)
      .result) as unknown as KontextResult;
    expect(goldenError(generated.latent.data, goldenFloat('run.t2i_h32w32.latent').data)).toBeLessThan(1e-4);
    expect(pixelDifference(generated, 't2i_h32w32')).toBeLessThanOrEqual(1);
    const edit = kontextIndex.runs.edit_h48w64;
    const edited = (await model.edit({
      image: SOURCE_IMAGE,
      prompt: edit.prompt,
      steps: 3,
      longerEdge: 64,
      sizeMultiple: 16,
      random: replay('edit_h48w64'),
    } as never).result) as unknown as KontextResult;
    expect(goldenError(edited.latent.data, goldenFloat('run.edit_h48w64.latent').data)).toBeLessThan(1e-4);
    expect(pixelDifference(edited, 'edit_h48w64')).toBeLessThanOrEqual(1);
  });
});
