import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { UniPic } from '../../src/index.node.js';
import { goldenFloat32, goldenInt64, goldenUint8, referenceIndex, referenceModelDir, relativeError } from '../support/reference.js';
import { recordingBackend } from './support/recording-backend.js';
import { checkFinal, checkIterations, checkPrefix, floats, replay, TOLERANCE } from './support/run-checks.js';
import { ReplayRandom } from './support/replay-random.js';

// Oracle: tools/reference (PyTorch, official-code semantics) → test/fixtures/reference.
// Tolerance (oracle README): float32 tensors 1e-4 relative to max(1, max|expected|); ids, masks,
// positions exact; uint8 pixels equal or off by one.
let modelDir: string;
beforeAll(async () => {
  modelDir = await referenceModelDir();
}, 120_000);

const TEXT_TO_IMAGE = ['t2i_64', 't2i_128', 't2i_64_linear', 't2i_64_cfg1', 't2i_64_two_images'];

describe('generate() reproduces the PyTorch oracle with injected orders and noise', () => {
  it.each(TEXT_TO_IMAGE)(
    '%s: every iteration and the final pixels',
    async (run) => {
      const info = referenceIndex.runs[run];
      const s = info.settings;
      const { calls, result } = await replay(
        modelDir,
        run,
        async (model, random) =>
          model.generate({
            prompt: info.prompt,
            size: s.imageSize,
            steps: s.numIter,
            guidance: s.cfg,
            guidanceSchedule: s.cfgSchedule,
            temperature: s.temperature,
            numImages: s.numImages,
            random,
          }).result,
      );
      checkPrefix(run, calls);
      checkIterations(run, calls);
      checkFinal(run, calls, result.images);
    },
    120_000,
  );
});

describe('sizes the converter did not precompute', () => {
  it('t2i_128 from a model converted for 64 px only: tables resized at run time reproduce the oracle, with a warning', async () => {
    const run = 't2i_128';
    const info = referenceIndex.runs[run];
    const { backend, calls } = recordingBackend(new NodeOrtBackend());
    const model = await UniPic.load(await referenceModelDir([64]), { backend, device: 'cpu', dtype: 'fp32' });
    try {
      expect(model.manifest.resolutions.map((r) => r.size)).toEqual([64]);
      const generation = model.generate({ prompt: info.prompt, size: 128, steps: info.settings.numIter, random: new ReplayRandom(run) });
      const warnings: string[] = [];
      for await (const event of generation) if (event.type === 'warning') warnings.push(event.code);
      const result = await generation.result;
      expect(warnings).toEqual(['size-interpolated']);
      expect(result.warnings.map((w) => w.code)).toEqual(['size-interpolated']);
      const decoder = calls.find((c) => c.graph === 'mar_decoder')!;
      expect(relativeError(floats(decoder.feeds.decoder_pos), goldenFloat32('tables.128.decoder_pos'))).toBeLessThanOrEqual(1e-6);
      expect(relativeError(floats(decoder.feeds.diffusion_pos), goldenFloat32('tables.128.diffusion_pos'))).toBeLessThanOrEqual(1e-6);
      checkIterations(run, calls);
      checkFinal(run, calls, result.images);
      expect(() => model.generate({ prompt: 'x', size: 100 })).toThrow(/multiple of 16/);
    } finally {
      await model.dispose();
      await backend.dispose();
    }
  }, 120_000);
});

describe('edit() reproduces the PyTorch oracle', () => {
  it('edit_64: source encoding, fill, every iteration and the final pixels', async () => {
    const run = 'edit_64';
    const info = referenceIndex.runs[run];
    const source = goldenUint8(`${run}.source.image`);
    const { calls, result } = await replay(
      modelDir,
      run,
      async (model, random) =>
        model.edit({
          image: { data: source, width: 64, height: 64, channels: 3 },
          prompt: info.prompt,
          size: 64,
          steps: info.settings.numIter,
          guidance: info.settings.cfg,
          temperature: info.settings.temperature,
          random,
        }).result,
    );
    const vaeEncoder = calls.find((c) => c.graph === 'vae_encoder')!;
    expect(relativeError(floats(vaeEncoder.feeds.pixels), goldenFloat32(`${run}.source.pixels`))).toBeLessThanOrEqual(TOLERANCE);
    expect(relativeError(floats(vaeEncoder.outputs.latents), goldenFloat32(`${run}.source.latents`))).toBeLessThanOrEqual(TOLERANCE);
    const sourceEncoder = calls.find((c) => c.graph === 'mar_encoder')!;
    expect(relativeError(floats(sourceEncoder.outputs.x_enc), goldenFloat32(`${run}.source.x_con`))).toBeLessThanOrEqual(TOLERANCE);
    expect(relativeError(floats(sourceEncoder.outputs.llm_in), goldenFloat32(`${run}.source.llm_in`))).toBeLessThanOrEqual(TOLERANCE);
    const fill = calls.find((c) => c.graph === 'decoder_embed')!;
    expect(relativeError(floats(fill.outputs.fill), goldenFloat32(`${run}.fill`))).toBeLessThanOrEqual(TOLERANCE);
    checkPrefix(run, calls);
    checkIterations(run, calls);
    checkFinal(run, calls, result.images);
  }, 120_000);
});

describe('understand() reproduces the PyTorch oracle', () => {
  it.each([
    ['greedy', 1],
    ['greedy_rp', 1.1],
  ])(
    'understand_64 %s: visual tokens and every greedy token',
    async (variant, repetitionPenalty) => {
      const run = 'understand_64';
      const source = goldenUint8(`${run}.source.image`);
      const { backend, calls } = recordingBackend(new NodeOrtBackend());
      const model = await UniPic.load(modelDir, { backend, device: 'cpu', dtype: 'fp32' });
      try {
        const result = await model.understand({
          image: { data: source, width: 64, height: 64, channels: 3 },
          size: 64,
          maxTokens: 8,
          repetitionPenalty,
        }).result;
        const encoder = calls.find((c) => c.graph === 'mar_encoder')!;
        expect(relativeError(floats(encoder.outputs.llm_in), goldenFloat32(`${run}.source.llm_in`))).toBeLessThanOrEqual(TOLERANCE);
        const expected = goldenInt64(`${run}.${variant}.token_ids`);
        // The reference stops only at maxTokens here; an end token would end ours earlier.
        expect(result.tokens).toEqual(expected.slice(0, result.tokens.length));
        expect(result.tokens.length === expected.length || result.finishReason === 'stop').toBe(true);
        const heads = calls.filter((c) => c.graph === 'lm_head');
        const hidden = goldenFloat32(`${run}.${variant}.hidden`);
        heads.forEach((head, i) => {
          expect(relativeError(floats(head.feeds.hidden), hidden.subarray(i * 8, (i + 1) * 8)), `step ${i} hidden`).toBeLessThanOrEqual(TOLERANCE);
        });
      } finally {
        await model.dispose();
        await backend.dispose();
      }
    },
    120_000,
  );
});

describe('a model folder converted before generation defaults were stored', () => {
  it('understands with the SDK defaults (penalty 1.1), reproducing understand_64 greedy_rp', async () => {
    const run = 'understand_64';
    const dir = await mkdtemp(join(tmpdir(), 'unipic-old-manifest-'));
    try {
      await cp(modelDir, dir, { recursive: true });
      const manifest = JSON.parse(await readFile(join(dir, 'unipic.json'), 'utf8')) as Record<string, unknown>;
      expect(manifest.generation).toEqual({ repetitionPenalty: 1.1, temperature: 0.7, topK: 20, topP: 0.8 });
      delete manifest.generation;
      await writeFile(join(dir, 'unipic.json'), JSON.stringify(manifest));
      const backend = new NodeOrtBackend();
      const model = await UniPic.load(dir, { backend, device: 'cpu', dtype: 'fp32' });
      try {
        expect(model.manifest.generation).toBeUndefined();
        const result = await model.understand({ image: { data: goldenUint8(`${run}.source.image`), width: 64, height: 64, channels: 3 }, size: 64, maxTokens: 8 })
          .result;
        const expected = goldenInt64(`${run}.greedy_rp.token_ids`);
        expect(result.tokens).toEqual(expected.slice(0, result.tokens.length));
        expect(result.tokens.length === expected.length || result.finishReason === 'stop').toBe(true);
      } finally {
        await model.dispose();
        await backend.dispose();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

afterAll(() => undefined);
