import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisposedError, InvalidInputError, InvalidOptionsError, type UniPic } from '../../src/index.node.js';
import type { InstrumentedBackend } from './support/instrumented-backend.js';
import { damagedCopy, expectNoLiveTensors, imageFixture, loadInstrumented, QUICK, rejection, thrown } from './support/tiny-fixture.js';

describe('calls with bad options are refused at the boundary, before queueing', () => {
  let model: UniPic;
  let backend: InstrumentedBackend;
  let reference: Uint8ClampedArray;
  const started: string[] = [];

  beforeAll(async () => {
    ({ model, backend } = await loadInstrumented());
    model.on('run-start', ({ capability }) => started.push(capability));
    reference = (await model.generate({ prompt: 'a red square', ...QUICK }).result).images[0].data;
    started.length = 0;
  });
  afterAll(async () => model.dispose());

  const image = imageFixture('rgb-64x64.png');
  const cases: [string, () => unknown, string][] = [
    ['generate steps 0', () => model.generate({ prompt: 'x', ...QUICK, steps: 0 }), 'steps'],
    ['generate steps 1.5', () => model.generate({ prompt: 'x', ...QUICK, steps: 1.5 }), 'steps'],
    ['generate steps 257', () => model.generate({ prompt: 'x', ...QUICK, steps: 257 }), 'steps'],
    ['generate guidance 0.5', () => model.generate({ prompt: 'x', ...QUICK, guidance: 0.5 }), 'guidance'],
    ['generate guidance NaN', () => model.generate({ prompt: 'x', ...QUICK, guidance: Number.NaN }), 'guidance'],
    ['generate temperature 0', () => model.generate({ prompt: 'x', ...QUICK, temperature: 0 }), 'temperature'],
    ['generate temperature Infinity', () => model.generate({ prompt: 'x', ...QUICK, temperature: Infinity }), 'temperature'],
    ['generate diffusionSteps 0', () => model.generate({ prompt: 'x', ...QUICK, diffusionSteps: 0 }), 'diffusionSteps'],
    ['generate diffusionSteps 1001', () => model.generate({ prompt: 'x', ...QUICK, diffusionSteps: 1001 }), 'diffusionSteps'],
    ['generate numImages 0', () => model.generate({ prompt: 'x', ...QUICK, numImages: 0 }), 'numImages'],
    ['generate numImages 17', () => model.generate({ prompt: 'x', ...QUICK, numImages: 17 }), 'numImages'],
    ['generate seed -1', () => model.generate({ prompt: 'x', ...QUICK, seed: -1 }), 'seed'],
    ['generate seed 2^31', () => model.generate({ prompt: 'x', ...QUICK, seed: 2 ** 31 }), 'seed'],
    ['generate size 65 (no tables)', () => model.generate({ prompt: 'x', ...QUICK, size: 65 }), 'size'],
    ['generate size -64', () => model.generate({ prompt: 'x', ...QUICK, size: -64 }), 'size'],
    ['generate empty prompt', () => model.generate({ prompt: '', ...QUICK }), 'prompt'],
    ['generate prompt not a string', () => model.generate({ prompt: 42 as unknown as string, ...QUICK }), 'prompt'],
    ['generate unknown option', () => model.generate({ prompt: 'x', ...QUICK, stepz: 3 } as never), '(root)'],
    ['generate signal not a signal', () => model.generate({ prompt: 'x', ...QUICK, signal: 'stop' as never }), 'signal'],
    ['generate preview 0', () => model.generate({ prompt: 'x', ...QUICK, preview: 0 }), 'preview'],
    ['generate no options', () => model.generate(undefined as never), 'prompt'],
    ['edit without image', () => model.edit({ prompt: 'x', ...QUICK } as never), 'image'],
    ['edit image null', () => model.edit({ image: null as never, prompt: 'x', ...QUICK }), 'image'],
    ['edit image a number', () => model.edit({ image: 5 as never, prompt: 'x', ...QUICK }), 'image'],
    ['understand maxTokens 0', () => model.understand({ image, size: 64, maxTokens: 0 }), 'maxTokens'],
    ['understand maxTokens 10^6', () => model.understand({ image, size: 64, maxTokens: 1e6 }), 'maxTokens'],
    ['understand empty stop string', () => model.understand({ image, size: 64, stop: [''] }), 'stop.0'],
    ['understand size 100', () => model.understand({ image, size: 100 }), 'size'],
    ['understand empty prompt', () => model.understand({ image, prompt: '', size: 64 }), 'prompt'],
  ];

  for (const [label, call, path] of cases) {
    it(label, () => {
      const error = thrown(call);
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect(error.code).toBe('INVALID_OPTIONS');
      const issues = (error.details as { issues: { path: string }[] }).issues;
      expect(issues.map((issue) => issue.path)).toContain(path);
      expect(model.pendingCalls).toBe(0);
    });
  }

  it('none of them started a run, and the model still gives the same image', async () => {
    const before = backend.runs.length;
    expect(started).toEqual([]);
    expect(backend.runs.length).toBe(before);
    const again = (await model.generate({ prompt: 'a red square', ...QUICK }).result).images[0].data;
    // The same seed on the same backend: bit-identical pixels (tolerance 0).
    expect(Buffer.from(again).equals(Buffer.from(reference))).toBe(true);
    expectNoLiveTensors(backend);
  });
});

describe('hostile and odd images at the model level', () => {
  let model: UniPic;
  let backend: InstrumentedBackend;
  const outcomes: string[] = [];

  beforeAll(async () => {
    ({ model, backend } = await loadInstrumented());
    model.on('run-end', ({ outcome }) => outcomes.push(outcome));
  });
  afterAll(async () => model.dispose());

  const be32 = (value: number) => [(value >>> 24) & 255, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
  const pngBomb = new Uint8Array([
    0x89,
    0x50,
    0x4e,
    0x47,
    0x0d,
    0x0a,
    0x1a,
    0x0a,
    0,
    0,
    0,
    13,
    0x49,
    0x48,
    0x44,
    0x52,
    ...be32(100000),
    ...be32(100000),
    8,
    6,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
  const png = imageFixture('rgb-64x64.png');
  const bad: [string, unknown][] = [
    ['zero bytes', new Uint8Array(0)],
    ['text', new TextEncoder().encode('definitely not an image')],
    ['a PNG header declaring 100000×100000 (bomb)', pngBomb],
    ['a truncated PNG', png.subarray(0, png.length >> 1)],
    ['raw pixels whose length does not match', { data: new Uint8Array(10), width: 4, height: 4, channels: 3 }],
    ['a missing file', '/nonexistent/unipic/image.png'],
  ];

  for (const [label, image] of bad) {
    it(`understand and edit refuse ${label} with InvalidInputError before any graph runs`, async () => {
      for (const start of [
        () => model.understand({ image: image as never, size: 64, maxTokens: 2 }),
        () => model.edit({ image: image as never, prompt: 'x', ...QUICK }),
      ]) {
        const runsBefore = backend.runs.length;
        const failure = await rejection(start().result);
        expect(failure).toBeInstanceOf(InvalidInputError);
        expect(backend.runs.length).toBe(runsBefore);
        expect(outcomes.at(-1)).toBe('error');
        expectNoLiveTensors(backend, model.config.llm.numLayers);
      }
    });
  }

  const odd: [string, unknown][] = [
    ['1×1', imageFixture('rgb-1x1.png')],
    ['1000×1', imageFixture('rgb-1000x1.png')],
    ['1×700', imageFixture('rgb-1x700.png')],
    ['grey + alpha raw pixels', { data: new Uint8Array(5 * 3 * 2).fill(200), width: 5, height: 3, channels: 2 }],
    ['a 16-bit grey+alpha PNG', imageFixture('la16-8x6.png')],
    ['a 2-bit palette PNG with transparency', imageFixture('palette2-trns-15x6.png')],
    ['a CMYK JPEG', imageFixture('cmyk-16x16.jpg')],
  ];

  for (const [label, image] of odd) {
    it(`understand and edit accept ${label}`, async () => {
      const answer = await model.understand({ image: image as never, size: 64, maxTokens: 2 }).result;
      expect(answer.usage.completionTokens).toBeGreaterThan(0);
      const edited = await model.edit({ image: image as never, prompt: 'x', ...QUICK }).result;
      expect([edited.images[0].width, edited.images[0].height]).toEqual([64, 64]);
      expectNoLiveTensors(backend, model.config.llm.numLayers);
    });
  }
});

describe('calls after dispose', () => {
  it('throw DisposedError at once; dispose is idempotent', async () => {
    const { model, backend } = await loadInstrumented();
    await model.generate({ prompt: 'x', ...QUICK }).result;
    await model.dispose();
    await model.dispose();
    expect(model.disposed).toBe(true);
    const image = imageFixture('rgb-64x64.png');
    for (const call of [
      () => model.generate({ prompt: 'x', ...QUICK }),
      () => model.edit({ image, prompt: 'x', ...QUICK }),
      () => model.understand({ image, size: 64 }),
    ]) {
      const error = thrown(call);
      expect(error).toBeInstanceOf(DisposedError);
      expect(error.code).toBe('DISPOSED');
    }
    expect(backend.liveSessions).toBe(0);
    expect(backend.liveTensors).toBe(0);
  });
});

describe('a prompt longer than the context', () => {
  // The real limit is 32768 positions; a copy of the tiny model with a small limit makes the
  // boundary cheap to reach. Generate needs P + F + N positions, understand P + new tokens.
  const LIMIT = 120;
  let folder: { folder: string; remove(): Promise<void> };
  let model: UniPic;
  let backend: InstrumentedBackend;
  beforeAll(async () => {
    folder = await damagedCopy((manifest) => {
      (manifest.config.llm as { maxPositionEmbeddings: number }).maxPositionEmbeddings = LIMIT;
    });
    ({ model, backend } = await loadInstrumented(folder.folder));
  });
  afterAll(async () => {
    await model.dispose();
    await folder.remove();
  });

  const long = 'a very long description '.repeat(40);

  it('generate and edit refuse it with InvalidInputError before any graph runs', async () => {
    for (const start of [() => model.generate({ prompt: long, ...QUICK }), () => model.edit({ image: imageFixture('rgb-64x64.png'), prompt: long, ...QUICK })]) {
      const runsBefore = backend.runsOf('llm');
      const failure = await rejection(start().result);
      expect(failure).toBeInstanceOf(InvalidInputError);
      expect(failure.message).toMatch(/context/);
      expect(failure.details).toMatchObject({ limit: LIMIT });
      expect((failure.details as { positions: number }).positions).toBeGreaterThan(LIMIT);
      expect(backend.runsOf('llm')).toBe(runsBefore);
    }
    expectNoLiveTensors(backend);
  });

  it('understand refuses a prompt that does not fit before any graph runs', async () => {
    const runsBefore = backend.runs.length;
    const failure = await rejection(model.understand({ image: imageFixture('rgb-64x64.png'), prompt: long, size: 64 }).result);
    expect(failure).toBeInstanceOf(InvalidInputError);
    expect(failure.details).toMatchObject({ limit: LIMIT });
    expect(backend.runs.length).toBe(runsBefore);
  });

  it('understand stops at the end of the context with finishReason "length"', async () => {
    const answer = await model.understand({ image: imageFixture('rgb-64x64.png'), prompt: 'hi', size: 64, maxTokens: 1000 }).result;
    // The tiny model's greedy answer never meets an end token (it ran 1000 tokens before the
    // context check existed), so it must stop exactly when the context is full.
    expect(answer.finishReason).toBe('length');
    expect(answer.usage.promptTokens + answer.usage.completionTokens).toBe(LIMIT);
    expectNoLiveTensors(backend, model.config.llm.numLayers);
  });

  it('a short prompt still fits and generates', async () => {
    const result = await model.generate({ prompt: 'cat', ...QUICK }).result;
    expect(result.images).toHaveLength(1);
  });
});
