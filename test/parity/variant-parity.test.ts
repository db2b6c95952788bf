import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { processLogits } from '../../src/core/text/sampling.js';
import { resolveTextSampling } from '../../src/core/text/sampling-options.js';
import { UniPic } from '../../src/index.node.js';
import { convertCheckpoint } from '../../src/families/unipic1/convert/convert-checkpoint.js';
import { makeTinyCheckpoint, tinyCheckpointConfig } from '../../src/families/unipic1/convert/tiny/make-tiny.js';
import { goldenFloat32, goldenInt64, goldenUint8, referenceIndex, relativeError, variantModelDir } from '../support/reference.js';
import { recordingBackend } from './support/recording-backend.js';
import { checkFinal, checkIterations, checkPrefix, floats, replay, TOLERANCE } from './support/run-checks.js';

// The oracle's UniPic-1 variant (issue #13; tools/reference/unipic_reference/variant_goldens.py):
// MAR decoder 16 wide and 1 block deep under a 32-wide encoder, MLP ratio 2, an untied lm_head,
// 3 query heads per KV head, RoPE theta 1e4, a 3-block diffusion head of width 24, and a
// generation_config.json with repetition penalty 1.0 and sampling defaults. Converted with nothing
// but what its folder states; every stage is held to the same tolerances as the tiny model's runs.
const HIDDEN = 6;
let modelDir: string;
beforeAll(async () => {
  modelDir = await variantModelDir();
}, 120_000);

async function withModel<T>(dir: string, body: (model: UniPic, calls: ReturnType<typeof recordingBackend>['calls']) => Promise<T>): Promise<T> {
  const { backend, calls } = recordingBackend(new NodeOrtBackend());
  const model = await UniPic.load(dir, { backend, device: 'cpu', dtype: 'fp32' });
  try {
    return await body(model, calls);
  } finally {
    await model.dispose();
    await backend.dispose();
  }
}

describe('a UniPic-1 variant converted from its folder alone', () => {
  it('the manifest holds what the shapes, the Qwen config and the generation config state', async () => {
    await withModel(modelDir, async (model) => {
      expect(model.manifest.config.mar).toMatchObject({ encoderWidth: 32, decoderWidth: 16, encoderDepth: 2, decoderDepth: 1, encoderHeads: 4, decoderHeads: 2 });
      expect(model.manifest.config.llm).toMatchObject({ hiddenSize: HIDDEN, numHeads: 3, numKeyValueHeads: 1, headDim: 2, ropeTheta: 10000 });
      expect(model.manifest.config.diffusion).toMatchObject({ width: 24, depth: 3 });
      expect(model.manifest.generation).toEqual({ repetitionPenalty: 1, temperature: 0.9, topK: 5, topP: 0.95 });
    });
  }, 60_000);

  it('text-to-image: every iteration and the final pixels', async () => {
    const run = 'variant_t2i_64';
    const info = referenceIndex.runs[run];
    const s = info.settings;
    const { calls, result } = await replay(
      modelDir,
      run,
      async (model, random) =>
        model.generate({ prompt: info.prompt, size: s.imageSize, steps: s.numIter, guidance: s.cfg, temperature: s.temperature, random }).result,
    );
    checkPrefix(run, calls);
    checkIterations(run, calls);
    checkFinal(run, calls, result.images);
  }, 120_000);

  it('edit: source encoding, the narrower fill, every iteration and the final pixels', async () => {
    const run = 'variant_edit_64';
    const info = referenceIndex.runs[run];
    const { calls, result } = await replay(
      modelDir,
      run,
      async (model, random) =>
        model.edit({
          image: { data: goldenUint8(`${run}.source.image`), width: 64, height: 64, channels: 3 },
          prompt: info.prompt,
          size: 64,
          steps: info.settings.numIter,
          guidance: info.settings.cfg,
          temperature: info.settings.temperature,
          random,
        }).result,
    );
    const source = calls.find((c) => c.graph === 'mar_encoder')!;
    expect(relativeError(floats(source.outputs.x_enc), goldenFloat32(`${run}.source.x_con`))).toBeLessThanOrEqual(TOLERANCE);
    const fill = calls.find((c) => c.graph === 'decoder_embed')!;
    expect(fill.outputs.fill.dims).toEqual([1, 64 + 16, 16]);
    expect(relativeError(floats(fill.outputs.fill), goldenFloat32(`${run}.fill`))).toBeLessThanOrEqual(TOLERANCE);
    checkPrefix(run, calls);
    checkIterations(run, calls);
    checkFinal(run, calls, result.images);
  }, 120_000);

  it('understand with the model defaults: the untied head and penalty 1.0 give the official tokens', async () => {
    const run = 'variant_understand_64';
    await withModel(modelDir, async (model, calls) => {
      const result = await model.understand({ image: { data: goldenUint8(`${run}.source.image`), width: 64, height: 64, channels: 3 }, size: 64, maxTokens: 8 })
        .result;
      const encoder = calls.find((c) => c.graph === 'mar_encoder')!;
      expect(relativeError(floats(encoder.outputs.llm_in), goldenFloat32(`${run}.source.llm_in`))).toBeLessThanOrEqual(TOLERANCE);
      const expected = goldenInt64(`${run}.greedy.token_ids`);
      expect(result.tokens).toEqual(expected.slice(0, result.tokens.length));
      expect(result.tokens.length === expected.length || result.finishReason === 'stop').toBe(true);
      const hidden = goldenFloat32(`${run}.greedy.hidden`);
      calls
        .filter((c) => c.graph === 'lm_head')
        .forEach((head, i) => {
          expect(relativeError(floats(head.feeds.hidden), hidden.subarray(i * HIDDEN, (i + 1) * HIDDEN)), `step ${i} hidden`).toBeLessThanOrEqual(TOLERANCE);
        });
      // The tied table would give other tokens: the head really is llm.lm_head.weight.
      expect(model.manifest.generation?.repetitionPenalty).toBe(1);
    });
  }, 120_000);

  it('understand with doSample: temperature, top-k and top-p come from the generation config, as transformers applies them', async () => {
    const run = 'variant_understand_64';
    await withModel(modelDir, async (model, calls) => {
      const result = await model.understand({
        image: { data: goldenUint8(`${run}.source.image`), width: 64, height: 64, channels: 3 },
        size: 64,
        maxTokens: 1,
        doSample: true,
        seed: 5,
      }).result;
      const logits = floats(calls.find((c) => c.graph === 'lm_head')!.outputs.logits);
      const scores = processLogits(logits, resolveTextSampling({ doSample: true }, model.manifest.generation), []);
      const kept = goldenInt64(`${run}.sampling.kept_ids`);
      const finite = [...scores.keys()].filter((i) => Number.isFinite(scores[i]));
      expect(finite).toEqual(kept);
      expect(
        relativeError(
          Float32Array.from(kept, (i) => scores[i]),
          goldenFloat32(`${run}.sampling.kept_scores`),
        ),
      ).toBeLessThanOrEqual(TOLERANCE);
      expect(kept).toContain(result.tokens[0] ?? -1);
    });
  }, 120_000);

  it('128 px from a model converted for 64 px only: each table is resized at its own width', async () => {
    const dir = await variantModelDir([64]);
    await withModel(dir, async (model, calls) => {
      await model.understand({ image: { data: goldenUint8('variant_understand_64.source.image'), width: 64, height: 64, channels: 3 }, size: 128, maxTokens: 1 })
        .result;
      const encoder = calls.find((c) => c.graph === 'mar_encoder')!;
      expect(encoder.feeds.pos_embed.dims).toEqual([1, 64 + 64, 32]);
      expect(relativeError(floats(encoder.feeds.pos_embed), goldenFloat32('variant.tables.128.encoder_pos'))).toBeLessThanOrEqual(1e-6);
      calls.length = 0;
      await model.generate({ prompt: 'a lighthouse', size: 128, steps: 1, guidance: 1, seed: 3 }).result;
      const decoder = calls.find((c) => c.graph === 'mar_decoder')!;
      expect(decoder.feeds.decoder_pos.dims).toEqual([1, 64 + 64, 16]);
      expect(relativeError(floats(decoder.feeds.decoder_pos), goldenFloat32('variant.tables.128.decoder_pos'))).toBeLessThanOrEqual(1e-6);
      expect(relativeError(floats(decoder.feeds.diffusion_pos), goldenFloat32('variant.tables.128.diffusion_pos'))).toBeLessThanOrEqual(1e-6);
    });
  }, 120_000);
});

describe("issue #13 as reported: the repository's tiny config with a narrower MAR decoder", () => {
  it('converts and runs generate, edit and understand (the tables were read at the encoder width before)', async () => {
    const base = tinyCheckpointConfig();
    const structure = {
      ...base,
      mar: { ...base.mar, decoder_embed_dim: 16, decoder_num_heads: 2 },
      diffloss: { ...base.diffloss, z_channels: 16 },
      resolutions: [64],
    };
    const dir = await mkdtemp(join(tmpdir(), 'unipic-narrow-'));
    try {
      await makeTinyCheckpoint(join(dir, 'checkpoint'), { structure });
      await convertCheckpoint(join(dir, 'checkpoint'), join(dir, 'model'));
      await withModel(join(dir, 'model'), async (model, calls) => {
        const generated = await model.generate({ prompt: 'a fox', size: 64, steps: 1, guidance: 1, seed: 1 }).result;
        expect(generated.images[0].width).toBe(64);
        expect(calls.find((c) => c.graph === 'mar_decoder')!.feeds.decoder_pos.dims).toEqual([1, 64 + 16, 16]);
        const image = { data: new Uint8Array(64 * 64 * 3).fill(90), width: 64, height: 64, channels: 3 as const };
        expect((await model.edit({ image, prompt: 'make it red', size: 64, steps: 1, guidance: 1, seed: 2 }).result).images).toHaveLength(1);
        expect((await model.understand({ image, size: 64, maxTokens: 2 }).result).usage.completionTokens).toBeGreaterThan(0);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
