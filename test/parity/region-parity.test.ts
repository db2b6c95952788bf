import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { planSteps } from '../../src/families/unipic1/mar/mask-schedule.js';
import { SeededRandom, UniPic, type ImageRunEvent, type MaskInput } from '../../src/index.node.js';
import { goldenFloat32, goldenUint8, referenceIndex, referenceModelDir, relativeError } from '../support/reference.js';
import { checkFinal, checkIterations, checkPrefix, floats, ints, TOLERANCE } from './support/run-checks.js';
import type { Backend } from '../../src/spec/backend.js';
import { recordingBackend, type GraphCall } from './support/recording-backend.js';
import { ReplayRandom } from './support/replay-random.js';

// Region editing on the oracle's tiny checkpoint (64 px: a 4×4 token grid, 16 px a token).
const SIZE = 64;
const GRID = 4;
const N = GRID * GRID;
const MAR_GRAPHS = ['embed', 'llm', 'mar_encoder', 'mar_decoder', 'decoder_embed', 'diffusion_head', 'diffusion_sampler', 'diffusion_sampler_plain'];

// One model for the file (calls run one after another); each test reads only its own graph calls.
let model: UniPic;
let calls: GraphCall[];
let backend: Backend;
beforeAll(async () => {
  const recording = recordingBackend(new NodeOrtBackend());
  backend = recording.backend;
  calls = recording.calls;
  model = await UniPic.load(await referenceModelDir(), { backend, device: 'cpu', dtype: 'fp32' });
}, 120_000);
afterAll(async () => {
  await model?.dispose();
  await backend?.dispose();
});

async function recorded<T>(call: (model: UniPic) => Promise<T>): Promise<{ calls: GraphCall[]; value: T; bufferSize: number; channels: number }> {
  calls.length = 0;
  const value = await call(model);
  return { calls: [...calls], value, bufferSize: model.config.mar.bufferSize, channels: model.config.mar.tokenDim };
}

/** Deterministic RGB test picture. */
function picture(width: number, height: number, seed = 3): { data: Uint8Array; width: number; height: number; channels: 3 } {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + seed * 101 + ((i * i) % 13)) & 255;
  return { data, width, height, channels: 3 };
}

/** A grid masking the token columns `columns` (each 16 px wide at 64 px). */
function columnMask(columns: number[]): MaskInput {
  const data = Array.from({ length: SIZE * SIZE }, (_, i) => columns.includes(Math.floor((i % SIZE) / (SIZE / GRID))));
  return { width: SIZE, height: SIZE, data };
}

function tokenSet(columns: number[]): Set<number> {
  const set = new Set<number>();
  for (let p = 0; p < N; p++) if (columns.includes(p % GRID)) set.add(p);
  return set;
}

function stepStarts(events: ImageRunEvent[]) {
  return events.flatMap((e) => (e.type === 'step-start' ? [e] : []));
}

async function drain(run: AsyncIterable<ImageRunEvent> & { result: Promise<unknown> }): Promise<ImageRunEvent[]> {
  const events: ImageRunEvent[] = [];
  for await (const event of run) events.push(event);
  await run.result;
  return events;
}

describe('a mask covering everything reproduces the oracle runs exactly', () => {
  it.each(['t2i_64', 't2i_64_linear', 't2i_64_two_images'])(
    'generate %s with an all-true grid mask',
    async (run) => {
      const info = referenceIndex.runs[run];
      const s = info.settings;
      const { calls, value } = await recorded(
        (model) =>
          model.generate({
            prompt: info.prompt,
            image: picture(SIZE, SIZE),
            mask: { width: 8, height: 8, data: new Array(64).fill(true) },
            size: s.imageSize,
            steps: s.numIter,
            guidance: s.cfg,
            guidanceSchedule: s.cfgSchedule,
            temperature: s.temperature,
            numImages: s.numImages,
            random: new ReplayRandom(run),
          }).result,
      );
      checkPrefix(run, calls);
      checkIterations(run, calls);
      checkFinal(run, calls, value.images);
    },
    120_000,
  );

  it('edit_64 with an all-white mask image', async () => {
    const run = 'edit_64';
    const info = referenceIndex.runs[run];
    const white = { data: new Uint8Array(32 * 32).fill(255), width: 32, height: 32, channels: 1 as const };
    const { calls, value } = await recorded(
      (model) =>
        model.edit({
          image: { data: goldenUint8(`${run}.source.image`), width: 64, height: 64, channels: 3 },
          mask: white,
          prompt: info.prompt,
          size: 64,
          steps: info.settings.numIter,
          guidance: info.settings.cfg,
          temperature: info.settings.temperature,
          random: new ReplayRandom(run),
        }).result,
    );
    const fill = calls.find((c) => c.graph === 'decoder_embed')!;
    expect(relativeError(floats(fill.outputs.fill), goldenFloat32(`${run}.fill`))).toBeLessThanOrEqual(TOLERANCE);
    checkPrefix(run, calls);
    checkIterations(run, calls);
    checkFinal(run, calls, value.images);
  }, 120_000);
});

/**
 * Known tokens at every iteration, read at the backend seam: the mar_decoder's scatter indices say
 * which positions the encoder's `latents` rows hold (buffers first, then known tokens in raster order).
 */
function checkKnownTokens(calls: GraphCall[], masked: Set<number>, steps: number, bufferSize: number, channels: number) {
  const source = floats(calls.find((c) => c.graph === 'vae_encoder')!.outputs.latents);
  const plan = planSteps(masked.size, steps);
  const ran = plan.filter((step) => step.predicted > 0);
  // Edit's source encoding is a mar_encoder call before the loop; the loop's are the last ones.
  const encoders = calls.filter((c) => c.graph === 'mar_encoder').slice(-ran.length);
  const decoders = calls.filter((c) => c.graph === 'mar_decoder');
  expect(decoders).toHaveLength(ran.length);
  ran.forEach((step, i) => {
    const [rows, k] = encoders[i].feeds.latents.dims as number[];
    expect(k, `iteration ${step.step}: known tokens`).toBe(N - masked.size + step.known);
    const latents = floats(encoders[i].feeds.latents);
    const scatter = ints(decoders[i].feeds.scatter_idx);
    for (let row = 0; row < rows; row++) {
      const known = scatter.slice(row * (bufferSize + k) + bufferSize, (row + 1) * (bufferSize + k)).map((s) => s - bufferSize);
      for (let p = 0; p < N; p++) if (!masked.has(p)) expect(known, `iteration ${step.step} row ${row} keeps ${p} known`).toContain(p);
      known.forEach((p, j) => {
        if (masked.has(p)) return;
        const got = latents.subarray((row * k + j) * channels, (row * k + j + 1) * channels);
        expect(Array.from(got), `iteration ${step.step} row ${row} token ${p}`).toEqual(Array.from(source.subarray(p * channels, (p + 1) * channels)));
      });
      // Every unmasked token is known, so the predicted ones among the known are the schedule's count of masked ones.
      expect(
        known.filter((p) => masked.has(p)),
        `iteration ${step.step} row ${row}: predicted so far`,
      ).toHaveLength(step.known);
    }
  });
  const final = floats(calls.filter((c) => c.graph === 'vae_decoder').at(-1)!.feeds.latents);
  const images = final.length / (N * channels);
  for (let g = 0; g < images; g++) {
    for (let p = 0; p < N; p++) {
      if (masked.has(p)) continue;
      expect(Array.from(final.subarray((g * N + p) * channels, (g * N + p + 1) * channels)), `final image ${g} token ${p}`).toEqual(
        Array.from(source.subarray(p * channels, (p + 1) * channels)),
      );
    }
  }
}

describe('tokens outside the mask are the source’s, bit for bit, at every iteration', () => {
  it('generate: left half masked, 4 iterations', async () => {
    const columns = [0, 1];
    const masked = tokenSet(columns);
    const { calls, value, bufferSize, channels } = await recorded(async (model) => {
      const run = model.generate({
        prompt: 'a cat',
        image: picture(SIZE, SIZE),
        mask: columnMask(columns),
        size: SIZE,
        steps: 4,
        random: new SeededRandom(5),
        feather: 0,
      });
      return { events: await drain(run), result: await run.result };
    });
    checkKnownTokens(calls, masked, 4, bufferSize, channels);
    const starts = stepStarts(value.events);
    const plan = planSteps(masked.size, 4);
    expect(starts.map((e) => e.predicting)).toEqual(plan.map((p) => p.predicted));
    expect(starts.map((e) => e.known)).toEqual(plan.map((p) => N - masked.size + p.known));
    // Composited with feather 0: the right half is the source's pixels exactly.
    const image = value.result.images[0];
    const source = picture(SIZE, SIZE).data;
    for (let y = 0; y < SIZE; y++)
      for (let x = 32; x < SIZE; x++) for (let c = 0; c < 3; c++) expect(image.data[(y * SIZE + x) * 4 + c]).toBe(source[(y * SIZE + x) * 3 + c]);
  }, 120_000);

  it('edit, two images with guidance (4 rows): one masked column, 6 iterations (schedule over 4 tokens skips empty steps)', async () => {
    const columns = [3];
    const masked = tokenSet(columns);
    const { calls, value, bufferSize, channels } = await recorded(async (model) => {
      const run = model.edit({
        prompt: 'make it blue',
        image: picture(SIZE, SIZE, 9),
        mask: columnMask(columns),
        size: SIZE,
        steps: 6,
        numImages: 2,
        seed: 11,
        preview: 1,
      });
      return { events: await drain(run), result: await run.result };
    });
    checkKnownTokens(calls, masked, 6, bufferSize, channels);
    expect(stepStarts(value.events).map((e) => e.predicting)).toEqual(planSteps(masked.size, 6).map((p) => p.predicted));
    const previews = value.events.filter((e) => e.type === 'image-preview');
    expect(previews.length).toBeGreaterThan(0);
    for (const preview of previews)
      if (preview.type === 'image-preview')
        expect(preview.images.map((i) => [i.width, i.height])).toEqual([
          [64, 64],
          [64, 64],
        ]);
    expect(value.result.images).toHaveLength(2);
  }, 120_000);
});

describe('abort and seed work as for a plain run', () => {
  it('aborting after the first iteration rejects with AbortError; the same seed repeats the image', async () => {
    const options = { prompt: 'a cat', image: picture(SIZE, SIZE), mask: columnMask([2]), size: SIZE, steps: 4, seed: 21 } as const;
    const { value } = await recorded(async (model) => {
      const controller = new AbortController();
      const run = model.generate({ ...options, signal: controller.signal });
      let finished = 0;
      const error = await (async () => {
        for await (const event of run) if (event.type === 'step-finish' && ++finished === 1) controller.abort();
      })().catch((e: unknown) => e);
      const first = await model.generate(options).result;
      const second = await model.generate(options).result;
      return { error, finished, same: Array.from(first.images[0].data).every((v, i) => v === second.images[0].data[i]), seed: first.seed };
    });
    expect(value.error).toMatchObject({ name: 'AbortError', code: 'ABORTED' });
    expect(value.finished).toBe(1);
    expect(value.same).toBe(true);
    expect(value.seed).toBe(21);
  }, 120_000);
});

describe('a mask of nothing returns the source without running the loop', () => {
  it('generate: composited source, no graph at all', async () => {
    const { calls, value } = await recorded(async (model) => {
      const run = model.generate({ prompt: 'x', image: picture(SIZE, SIZE), mask: { width: 4, height: 4, data: new Float32Array(16) }, size: SIZE, seed: 1 });
      return { events: await drain(run), result: await run.result };
    });
    expect(calls.filter((c) => MAR_GRAPHS.includes(c.graph))).toEqual([]);
    expect(value.result.warnings.map((w) => w.code)).toEqual(['mask-empty']);
    const source = picture(SIZE, SIZE).data;
    const image = value.result.images[0];
    expect(Array.from(image.data.filter((_, i) => i % 4 !== 3))).toEqual(Array.from(source));
    expect(value.events.at(-1)?.type).toBe('finish');
  }, 120_000);

  it('edit with composite: false: the VAE round trip, no MAR graph', async () => {
    const { calls, value } = await recorded(
      (model) =>
        model.edit({ prompt: 'x', image: picture(SIZE, SIZE), mask: { width: 1, height: 1, data: [false] }, size: SIZE, composite: false, numImages: 2 }).result,
    );
    expect(calls.filter((c) => MAR_GRAPHS.includes(c.graph))).toEqual([]);
    expect(calls.map((c) => c.graph)).toEqual(['vae_encoder', 'vae_decoder']);
    expect(value.images).toHaveLength(2);
  }, 120_000);
});

describe('outpaint', () => {
  it('bottom:32 on a 64×32 image: the new rows are regenerated, the source rows kept', async () => {
    const { calls, value, bufferSize, channels } = await recorded(
      (model) => model.generate({ prompt: 'more sky', image: picture(64, 32), outpaint: { bottom: 32 }, size: SIZE, steps: 4, seed: 2, feather: 0 }).result,
    );
    const masked = new Set(Array.from({ length: 8 }, (_, i) => 8 + i));
    checkKnownTokens(calls, masked, 4, bufferSize, channels);
    const image = value.images[0];
    expect([image.width, image.height]).toEqual([64, 64]);
    const source = picture(64, 32).data;
    for (let i = 0; i < 64 * 32; i++) for (let c = 0; c < 3; c++) expect(image.data[i * 4 + c]).toBe(source[i * 3 + c]);
  }, 120_000);

  it('right:16 on a 48×48 image: the canvas is padded to a square, and the output cropped back to 64×48', async () => {
    const { calls, value } = await recorded(
      (model) => model.edit({ prompt: 'extend', image: picture(48, 48), outpaint: { right: 16 }, size: SIZE, steps: 4, seed: 4, feather: 0 }).result,
    );
    // Canvas 64×48 sits at y = 8 in the 64×64 square: token rows 0 and 3 reach off the canvas, column 3 is new.
    const decoders = calls.filter((c) => c.graph === 'mar_decoder');
    expect(decoders.length).toBeGreaterThan(0);
    const image = value.images[0];
    expect([image.width, image.height]).toEqual([64, 48]);
    const source = picture(48, 48).data;
    // Tokens rows 1–2, columns 0–2 are known: square y 16..48 → canvas y 8..40, x 0..48.
    for (let y = 8; y < 40; y++)
      for (let x = 0; x < 48; x++) for (let c = 0; c < 3; c++) expect(image.data[(y * 64 + x) * 4 + c]).toBe(source[(y * 48 + x) * 3 + c]);
  }, 120_000);
});

describe('bad masks are refused with a typed error naming the problem', () => {
  it.each([
    ['mask-aspect', { width: 10, height: 20, data: new Array(200).fill(true) }, /aspect ratio/],
    ['mask-empty', { width: 0, height: 0, data: [] }, /grid is empty/],
    ['mask-transparent', { data: new Uint8Array(8 * 8 * 4), width: 8, height: 8, channels: 4 }, /fully transparent/],
    ['mask-unreadable', new TextEncoder().encode('this is not an image'), /not a readable image/],
    ['mask-values', { width: 2, height: 2, data: [0, 1, 2, 0] }, /\[0, 1\]/],
  ])(
    '%s',
    async (problem, mask, message) => {
      await recorded(async (model) => {
        const error = await model.generate({ prompt: 'x', image: picture(SIZE, SIZE), mask: mask as MaskInput, size: SIZE }).result.catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'INVALID_INPUT', details: { problem } });
        expect((error as Error).message).toMatch(message);
      });
    },
    120_000,
  );

  it('a model loaded for generate only says region generation needs the VAE encoder', async () => {
    const generateOnly = await UniPic.load(await referenceModelDir(), { device: 'cpu', dtype: 'fp32', capabilities: ['generate'] });
    try {
      const error = await generateOnly.generate({ prompt: 'x', image: picture(SIZE, SIZE), mask: columnMask([0]), size: SIZE }).result.catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS' });
      expect((error as Error).message).toMatch(/vae_encoder/);
    } finally {
      await generateOnly.dispose();
    }
  }, 120_000);

  it('region options without an image, or an image without a region, are invalid options', async () => {
    await recorded(async (model) => {
      expect(() => model.generate({ prompt: 'x', mask: columnMask([0]) })).toThrow(/needs the source image/);
      expect(() => model.generate({ prompt: 'x', image: picture(SIZE, SIZE) })).toThrow(/use edit\(\)/);
      expect(() => model.edit({ prompt: 'x', image: picture(SIZE, SIZE), outpaint: {} })).toThrow(/at least one/);
      const error = await model
        .edit({ prompt: 'x', image: picture(SIZE, SIZE), outpaint: { left: 10, right: 10, width: 70 }, size: SIZE })
        .result.catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS' });
    });
  }, 120_000);
});
