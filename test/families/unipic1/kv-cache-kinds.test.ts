import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, UniPic } from '../../../src/index.node.js';
import { tinyModelDir } from '../../support/tiny-model.js';
import { expectNoLiveTensors, loadInstrumented, rejection } from '../../reliability/support/tiny-fixture.js';

// The same tiny checkpoint converted with the in-place KV cache (today's default) and the way every
// folder was converted before it (`kvCache: 'concat'`, the manifest without the field): both run
// through the same host loop, and give the same tokens and pixels.
const width = 64;
const source = { data: new Uint8Array(width * width * 3).map((_, i) => (i * 13) % 251), width, height: width, channels: 3 as const };
const QUICK = { size: 64, steps: 2, diffusionSteps: 4, seed: 11 } as const;

let oldFolder: string;
let inPlace: UniPic;
let concat: UniPic;
beforeAll(async () => {
  // A folder converted before the field existed: the concat graph, no `kvCache` in unipic.json.
  oldFolder = await mkdtemp(join(tmpdir(), 'unipic-concat-'));
  await cp(await tinyModelDir(['fp32'], { kvCache: 'concat' }), oldFolder, { recursive: true });
  const manifest = JSON.parse(await readFile(join(oldFolder, 'unipic.json'), 'utf8')) as Record<string, unknown>;
  expect(manifest.kvCache).toBe('concat');
  delete manifest.kvCache;
  await writeFile(join(oldFolder, 'unipic.json'), JSON.stringify(manifest));
  const dir = await tinyModelDir(['fp32']);
  const current = JSON.parse(await readFile(join(dir, 'unipic.json'), 'utf8'));
  expect(current.kvCache).toBe('in-place');
  expect(current.kvCacheLayout).toBe('values-transposed');
  inPlace = await UniPic.load(dir, { dtype: 'fp32', device: 'cpu' });
  concat = await UniPic.load(oldFolder, { dtype: 'fp32', device: 'cpu' });
}, 300_000);
afterAll(async () => {
  await inPlace?.dispose();
  await concat?.dispose();
  if (oldFolder) await rm(oldFolder, { recursive: true, force: true });
});

/** Greatest channel difference between two runs' images. */
function pixelDifference(a: { data: Uint8ClampedArray }[], b: { data: Uint8ClampedArray }[]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  a.forEach((image, i) => {
    for (let j = 0; j < image.data.length; j++) worst = Math.max(worst, Math.abs(image.data[j] - b[i].data[j]));
  });
  return worst;
}

describe('UniPic-1 llm graphs with either KV cache', () => {
  it('the in-place graph takes the buffer and returns only new keys/values; the old one chains presents', async () => {
    const files = async (dir: string) => JSON.parse(await readFile(join(dir, 'unipic.json'), 'utf8')) as { graphs: { llm: { fp32: { file: string } } } };
    // The graph's own I/O names are in its protobuf; the in-place cache's output names appear only there.
    const graphBytes = async (dir: string) => (await readFile(join(dir, (await files(dir)).graphs.llm.fp32.file))).toString('latin1');
    const current = await graphBytes(await tinyModelDir(['fp32']));
    const old = await graphBytes(oldFolder);
    expect(current).toContain('new_key_values.0.key');
    expect(current).not.toContain('present.0.key');
    expect(old).toContain('present.0.key');
    expect(old).not.toContain('new_key_values.0.key');
  });

  it('understand: same greedy tokens, first question and a follow-up on the cached image prefix', async () => {
    for (const [prompt, reused] of [
      ['What is shown?', false],
      ['And the colours?', true],
      ['What is shown?', true],
    ] as const) {
      // Long enough to cross the in-place cache's 256-slot growth step, so the buffers regrow mid-answer.
      const options = { image: source, prompt, size: 64, maxTokens: 180 };
      const a = await inPlace.understand(options).result;
      const b = await concat.understand(options).result;
      expect(a.reusedImageCache).toBe(reused);
      expect(b.reusedImageCache).toBe(reused);
      expect(a.tokens).toEqual(b.tokens);
      expect(a.finishReason).toBe(b.finishReason);
      if (!reused) expect(a.usage.promptTokens + a.tokens.length).toBeGreaterThan(256);
    }
  }, 120_000);

  it('a follow-up answers as a fresh call would (the call rolled its own positions back)', async () => {
    const options = { image: source, prompt: 'Describe it.', size: 64, maxTokens: 12 };
    const followUp = await inPlace.understand(options).result;
    expect(followUp.reusedImageCache).toBe(true);
    const fresh = await UniPic.load(await tinyModelDir(['fp32']), { dtype: 'fp32', device: 'cpu' });
    try {
      const first = await fresh.understand(options).result;
      expect(first.reusedImageCache).toBe(false);
      expect(followUp.tokens).toEqual(first.tokens);
    } finally {
      await fresh.dispose();
    }
  }, 120_000);

  it('generate (guidance rows over a right-padded prefix) and edit: the same pixels within one level', async () => {
    const prompts = { prompt: 'a red lighthouse at dawn', numImages: 2, ...QUICK };
    expect(pixelDifference((await inPlace.generate(prompts).result).images, (await concat.generate(prompts).result).images)).toBeLessThanOrEqual(1);
    const edit = { image: source, prompt: 'make it blue', ...QUICK };
    expect(pixelDifference((await inPlace.edit(edit).result).images, (await concat.edit(edit).result).images)).toBeLessThanOrEqual(1);
  }, 120_000);

  it('the old folder releases the presents of each call: only the image prefix stays alive, also after an abort mid-answer', async () => {
    const { model, backend } = await loadInstrumented(oldFolder);
    try {
      const layers = model.config.llm.numLayers;
      const options = { image: source, prompt: 'What is shown?', size: 64, maxTokens: 8 };
      await model.understand(options).result;
      expect(backend.liveTensors).toBe(2 * layers);
      const base = backend.runsOf('lm_head');
      const run = model.understand(options);
      backend.hooks = {
        beforeRun: ({ graph, ofGraph }) => {
          if (graph === 'lm_head' && ofGraph === base + 3) run.abort(new AbortError('stopped mid-answer'));
        },
      };
      try {
        expect(await rejection(run.result)).toBeInstanceOf(AbortError);
      } finally {
        backend.hooks = {};
      }
      expectNoLiveTensors(backend, layers);
      expect(backend.liveTensors).toBe(2 * layers);
      expect((await model.understand(options).result).reusedImageCache).toBe(true);
      await model.generate({ prompt: 'a lighthouse', ...QUICK }).result;
      expect(backend.liveTensors).toBe(2 * layers);
    } finally {
      await model.dispose();
    }
    expect(backend.liveTensors).toBe(0);
  }, 120_000);
});
