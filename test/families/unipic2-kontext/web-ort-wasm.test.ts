import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebOrtBackend } from '../../../adapters/web-ort/index.js';
import type { NoisePurpose, RandomSource } from '../../../src/core/random/random-source.js';
import { convertKontextCheckpoint } from '../../../src/families/unipic2-kontext/convert/convert-kontext.js';
import { KontextModel } from '../../../src/families/unipic2-kontext/kontext-model.js';
import { freshDir, goldenError, goldenFloat, goldenUint8, kontextIndex, TINY_CHECKPOINT } from './kontext-fixtures.js';

/**
 * The browser half of the family (KontextModel + the web adapter on onnxruntime-web's wasm build,
 * graphs handed over as bytes as a page would fetch them) reproduces the oracle's text-to-image run.
 * (In Node: onnxruntime-web's Node build is wasm-only; Chromium itself is not exercised here.)
 */
let out: string;
const backend = new WebOrtBackend();
let model: KontextModel;

beforeAll(async () => {
  out = freshDir('wasm');
  await convertKontextCheckpoint(TINY_CHECKPOINT, out, { dtypes: ['fp32'] });
  await backend.init({ device: 'wasm' });
  const bytes = (file: string) => new Uint8Array(readFileSync(join(out, file)));
  model = await KontextModel.open(
    JSON.parse(readFileSync(join(out, 'unipic.json'), 'utf8')),
    {
      graphSource: (name, file, externalData) => ({ name, bytes: bytes(file), externalData: externalData.map((path) => ({ path, data: bytes(path) })) }),
      readText: async (path) => readFileSync(join(out, path), 'utf8'),
    },
    backend,
    { threads: 1 },
  );
});

afterAll(async () => {
  await model?.dispose();
  await backend.dispose();
});

describe('Kontext on onnxruntime-web (wasm)', () => {
  it('t2i_h32w32 equals the oracle (latent 1e-4, pixels ±1)', async () => {
    const run = 't2i_h32w32';
    const info = kontextIndex.runs[run];
    const random: RandomSource = {
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
    const result = await model.generate({ prompt: info.prompt, steps: 3, width: 32, height: 32, random }).result;
    expect(goldenError(result.latent.data, goldenFloat(`run.${run}.latent`).data)).toBeLessThan(1e-4);
    const expected = goldenUint8(`run.${run}.pixels`).data;
    let worst = 0;
    for (let i = 0; i < expected.length / 3; i++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(result.images[0].data[i * 4 + c] - expected[i * 3 + c]));
    expect(worst).toBeLessThanOrEqual(1);
  });
});
