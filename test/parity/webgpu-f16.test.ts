import { beforeAll, describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { UniPic } from '../../src/index.node.js';
import type { GraphCall } from './support/recording-backend.js';
import { recordingBackend } from './support/recording-backend.js';
import { ReplayRandom } from './support/replay-random.js';
import { floats } from './support/run-checks.js';
import { findLavapipeIcd } from '../support/lavapipe.js';
import { goldenFloat32, goldenInt64, goldenUint8, referenceIndex, referenceModelDir, relativeError } from '../support/reference.js';

// The fp16 and q4f16 graphs — what browser users on real GPUs get — run on onnxruntime-node's
// WebGPU EP with shader-f16, on Mesa >= 25 lavapipe (a CPU Vulkan driver), and are compared with
// the float32 oracle (which the CPU fp32 path reproduces to ~1e-6) within docs/fidelity.md's
// "Lower precisions" bounds. Dawn reads VK_ICD_FILENAMES once, at its first adapter: set it for
// this file's own process (vitest pool: forks) before anything touches WebGPU.
const icd = findLavapipeIcd();
if (icd.path) process.env.VK_ICD_FILENAMES = icd.path;

// docs/fidelity.md, "fp16 and q4f16 on WebGPU": wider than the CPU rows for the intermediate
// latents, because ORT's WebGPU kernels accumulate float16 products in float16 (a 4096-term dot
// product of ones gives 2048 there, 4096 on the CPU EP); the final pixels keep the CPU bounds.
const BOUNDS = {
  fp16: { z: 5e-2, pixelsMax: 3, pixelsMean: 0.3, visual: 5e-2, hidden: 5e-2 },
  q4f16: { z: 1.2, pixelsMax: 255, pixelsMean: 60, visual: 0.6, hidden: 0.6 },
} as const;
type HalfDtype = keyof typeof BOUNDS;
const DTYPES = Object.keys(BOUNDS) as HalfDtype[];

function pixelErrors(actual: Uint8ClampedArray, expected: Uint8Array, size: number) {
  let worst = 0;
  let total = 0;
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(actual[i * 4 + c] - expected[i * 3 + c]);
      worst = Math.max(worst, d);
      total += d;
    }
  }
  return { worst, mean: total / (size * size * 3) };
}

function checkAgainstOracle(run: string, dtype: HalfDtype, calls: GraphCall[], image: Uint8ClampedArray) {
  const z = calls.filter((c) => c.graph === 'mar_decoder').map((c, i) => relativeError(floats(c.outputs.z), goldenFloat32(`${run}.iter.${i}.z`)));
  expect(z).toHaveLength(referenceIndex.runs[run].settings.numIter);
  const pixels = pixelErrors(image, goldenUint8(`${run}.pixels`), 64);
  console.info(`[webgpu-f16] ${run} ${dtype}: z ${z.map((e) => e.toExponential(2)).join(' → ')}, pixels max ${pixels.worst} mean ${pixels.mean.toFixed(3)}`);
  const bound = BOUNDS[dtype];
  for (const error of z) expect(error).toBeLessThanOrEqual(bound.z);
  expect(pixels.worst).toBeLessThanOrEqual(bound.pixelsMax);
  expect(pixels.mean).toBeLessThanOrEqual(bound.pixelsMean);
  // Half precision must actually be in use: the float32 path matches to ~1e-6.
  expect(z[0]).toBeGreaterThan(1e-5);
}

async function withModel<T>(dir: string, dtype: HalfDtype, body: (model: UniPic, calls: GraphCall[]) => Promise<T>): Promise<T> {
  const { backend, calls } = recordingBackend(new NodeOrtBackend());
  const model = await UniPic.load(dir, { backend, device: 'webgpu', dtype });
  try {
    expect(model.backendInfo.device).toBe('webgpu');
    expect(model.backendInfo.fp16).toBe(true);
    expect(model.dtypes.llm).toBe(dtype);
    expect(model.loadWarnings).toEqual([]);
    return await body(model, calls);
  } finally {
    await model.dispose();
    await backend.dispose();
  }
}

if (icd.missing) {
  describe('fp16 / q4f16 graphs on WebGPU with shader-f16 (lavapipe)', () => {
    it.skip(`skipped: ${icd.missing}`, () => {});
  });
} else {
  let dir: string;
  beforeAll(async () => {
    dir = await referenceModelDir(undefined, ['fp32', 'fp16', 'q4f16']);
  }, 180_000);

  describe('fp16 / q4f16 graphs on WebGPU with shader-f16 (lavapipe) against the float32 oracle', () => {
    it.each(DTYPES)(
      'generate t2i_64 on %s',
      async (dtype) => {
        const run = 't2i_64';
        await withModel(dir, dtype, async (model, calls) => {
          const result = await model.generate({ prompt: referenceIndex.runs[run].prompt, size: 64, steps: 4, random: new ReplayRandom(run) }).result;
          checkAgainstOracle(run, dtype, calls, result.images[0].data);
        });
      },
      180_000,
    );

    it.each(DTYPES)(
      'edit edit_64 on %s',
      async (dtype) => {
        const run = 'edit_64';
        const info = referenceIndex.runs[run];
        await withModel(dir, dtype, async (model, calls) => {
          const result = await model.edit({
            image: { data: goldenUint8(`${run}.source.image`), width: 64, height: 64, channels: 3 },
            prompt: info.prompt,
            size: 64,
            steps: info.settings.numIter,
            guidance: info.settings.cfg,
            temperature: info.settings.temperature,
            random: new ReplayRandom(run),
          }).result;
          checkAgainstOracle(run, dtype, calls, result.images[0].data);
        });
      },
      180_000,
    );

    async function understand(dtype: HalfDtype) {
      const run = 'understand_64';
      return withModel(dir, dtype, async (model, calls) => {
        const result = await model.understand({
          image: { data: goldenUint8(`${run}.source.image`), width: 64, height: 64, channels: 3 },
          size: 64,
          maxTokens: 8,
          repetitionPenalty: 1,
        }).result;
        const encoder = calls.find((c) => c.graph === 'mar_encoder')!;
        const visual = relativeError(floats(encoder.outputs.llm_in), goldenFloat32(`${run}.source.llm_in`));
        const firstHidden = relativeError(floats(calls.find((c) => c.graph === 'lm_head')!.feeds.hidden), goldenFloat32(`${run}.greedy.hidden`).subarray(0, 8));
        const expected = goldenInt64(`${run}.greedy.token_ids`);
        console.info(
          `[webgpu-f16] ${run} ${dtype}: visual ${visual.toExponential(2)}, first hidden ${firstHidden.toExponential(2)}, tokens ${result.tokens.join(',')} vs ${expected.join(',')}`,
        );
        return { visual, firstHidden, tokens: result.tokens, expected };
      });
    }

    it('understand understand_64 on fp16: visual tokens, first hidden state and every greedy token', async () => {
      const { visual, firstHidden, tokens, expected } = await understand('fp16');
      expect(visual).toBeLessThanOrEqual(BOUNDS.fp16.visual);
      expect(firstHidden).toBeLessThanOrEqual(BOUNDS.fp16.hidden);
      expect(firstHidden).toBeGreaterThan(1e-5);
      expect(tokens).toEqual(expected);
    }, 180_000);

    it('understand understand_64 on q4f16: visual tokens within the 4-bit bound, greedy tokens produced', async () => {
      const { visual, tokens } = await understand('q4f16');
      expect(visual).toBeLessThanOrEqual(BOUNDS.q4f16.visual);
      expect(tokens).toHaveLength(8);
    }, 180_000);

    // Was an expected failure (0.89 vs 0.17 on the CPU EP): onnxruntime 1.30's WebGPU MatMulNBits
    // computes weights of exactly one q4 block (N·K = 32, here the tiny model's 4×8 k/v
    // projections) wrong; the converter now keeps weights that small unquantised (linear.ts).
    it('understand understand_64 on q4f16: first hidden state within the 4-bit bound', async () => {
      const { firstHidden } = await understand('q4f16');
      expect(firstHidden).toBeLessThanOrEqual(BOUNDS.q4f16.hidden);
    }, 180_000);
  });
}
