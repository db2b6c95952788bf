import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, UniPic, type Run } from '../../src/index.node.js';
import type { InstrumentedBackend } from './support/instrumented-backend.js';
import { expectNoLiveTensors, imageFixture, loadInstrumented, QUICK, rejection, tinyDir } from './support/tiny-fixture.js';

type AnyRun = Run<{ type: string }, unknown>;

/** What a call looks like from the backend: the graphs it ran, in order. */
async function trace(backend: InstrumentedBackend, start: () => AnyRun): Promise<{ graphs: string[]; result: unknown }> {
  const first = backend.runs.length;
  const result = await start().result;
  return { graphs: backend.runs.slice(first).map((run) => run.graph), result };
}

/**
 * Start a call and abort it from inside the backend, just as its `index`-th graph run starts
 * (0-based within the call). The run in flight completes (one ORT run cannot be interrupted);
 * the call must reject with AbortError without starting another run.
 */
async function abortAt(backend: InstrumentedBackend, model: UniPic, start: () => AnyRun, index: number) {
  const first = backend.runs.length;
  const events: string[] = [];
  const outcomes: string[] = [];
  const onEnd = ({ outcome }: { outcome: string }) => outcomes.push(outcome);
  model.on('run-end', onEnd);
  let run: AnyRun | undefined;
  backend.hooks = {
    beforeRun: ({ call }) => {
      if (call - 1 - first === index) run?.abort(new AbortError(`stopped at run ${index}`));
    },
  };
  try {
    run = start();
    const consumed = (async () => {
      for await (const event of run!) events.push(event.type);
    })();
    const failure = await rejection(run.result);
    const iteratorFailure = await rejection(consumed);
    return { failure, iteratorFailure, events, outcomes, runs: backend.runs.length - first };
  } finally {
    backend.hooks = {};
    model.off('run-end', onEnd);
  }
}

describe('abort at every graph run of every capability', () => {
  let model: UniPic;
  let backend: InstrumentedBackend;
  const image = imageFixture('rgb-64x64.png');
  // Understanding keeps the last image's prefix KV: a new image runs the whole prefill, the
  // same image again skips it. Both paths are aborted at every run.
  let fresh = 0;
  const freshImage = () => ({ data: new Uint8Array(64 * 64 * 3).fill(++fresh % 251), width: 64, height: 64, channels: 3 as const });
  const calls: Record<string, () => AnyRun> = {
    generate: () => model.generate({ prompt: 'a lighthouse', ...QUICK, guidance: 2 }) as AnyRun,
    edit: () => model.edit({ image, prompt: 'make it blue', ...QUICK }) as AnyRun,
    'understand (new image)': () => model.understand({ image: freshImage(), prompt: 'what is this?', size: 64, maxTokens: 3 }) as AnyRun,
    'understand (cached image)': () => model.understand({ image, prompt: 'what is this?', size: 64, maxTokens: 3 }) as AnyRun,
  };
  const references: Record<string, { graphs: string[]; result: unknown }> = {};
  const prefixLayers = () => model.config.llm.numLayers;

  beforeAll(async () => {
    ({ model, backend } = await loadInstrumented());
    references.generate = await trace(backend, calls.generate);
    references.edit = await trace(backend, calls.edit);
    references['understand (new image)'] = await trace(backend, calls['understand (new image)']);
    await calls['understand (cached image)']().result;
    references['understand (cached image)'] = await trace(backend, calls['understand (cached image)']);
  });

  it('the traces cover every phase: prefill, each MAR iteration, each diffusion step, decode, each token', () => {
    const count = (name: string, graph: string) => references[name].graphs.filter((g) => g === graph).length;
    // generate: embed, prefix llm, then per iteration mar_encoder, llm, mar_decoder and one
    // diffusion_head run per diffusion step (guidance batches cond and uncond in one run), then vae_decoder.
    expect(references.generate.graphs).toEqual([
      'embed',
      'llm',
      ...Array.from({ length: QUICK.steps }, () => ['mar_encoder', 'llm', 'mar_decoder', ...new Array(QUICK.diffusionSteps).fill('diffusion_head')]).flat(),
      'vae_decoder',
    ]);
    expect(references.edit.graphs.slice(0, 3)).toEqual(['vae_encoder', 'mar_encoder', 'decoder_embed']);
    expect(count('understand (new image)', 'vae_encoder')).toBe(1);
    expect(count('understand (new image)', 'lm_head')).toBe(3);
    expect(count('understand (cached image)', 'vae_encoder')).toBe(0);
    expect((references['understand (cached image)'].result as { reusedImageCache: boolean }).reusedImageCache).toBe(true);
  });
  afterAll(async () => model.dispose());

  for (const capability of Object.keys(calls)) {
    it(`${capability}: every phase (each graph run in turn) aborts cleanly and the next call is unaffected`, async () => {
      const reference = references[capability];
      expect(reference.graphs.length).toBeGreaterThan(5);
      // The cached-image call must re-use the prefix that the aborted calls leave in place.
      if (capability === 'understand (cached image)') await calls[capability]().result;
      for (let index = 0; index < reference.graphs.length; index++) {
        const outcome = await abortAt(backend, model, calls[capability], index);
        const where = `${capability} run ${index} (${reference.graphs[index]})`;
        expect(outcome.failure, where).toBeInstanceOf(AbortError);
        expect(outcome.failure.name).toBe('AbortError');
        expect(outcome.failure.message).toBe(`stopped at run ${index}`);
        expect(outcome.iteratorFailure).toBe(outcome.failure);
        // The run that saw the abort finished; nothing started after it.
        expect(outcome.runs, where).toBe(index + 1);
        expect(outcome.events).not.toContain('finish');
        expect(outcome.outcomes).toEqual(['aborted']);
        expectNoLiveTensors(backend, prefixLayers());
      }
      // Nothing an abort left behind changes the next result (seeded or greedy: bit-identical,
      // tolerance 0). A fresh image differs per call, so its reference is re-made on image 1.
      if (capability === 'understand (new image)') fresh = 0;
      const again = await trace(backend, calls[capability]);
      expect(again.graphs).toEqual(reference.graphs);
      expect(comparable(again.result)).toEqual(comparable(reference.result));
    });
  }

  it('the abort reason of a caller signal is the error message, with the reason as cause', async () => {
    const controller = new AbortController();
    const reason = new Error('user pressed stop');
    backend.hooks = { beforeRun: ({ graph }) => (graph === 'diffusion_head' ? controller.abort(reason) : undefined) };
    const failure = await rejection(model.generate({ prompt: 'x', ...QUICK, signal: controller.signal }).result);
    backend.hooks = {};
    expect(failure).toBeInstanceOf(AbortError);
    expect(failure.message).toBe('user pressed stop');
    expect(failure.cause).toBe(reason);
  });

  it('an already aborted signal rejects without running a graph', async () => {
    const runs = backend.runs.length;
    const failure = await rejection(model.generate({ prompt: 'x', ...QUICK, signal: AbortSignal.abort('no') }).result);
    expect(failure).toBeInstanceOf(AbortError);
    expect(backend.runs.length).toBe(runs);
  });

  it('break out of the event loop at each event kind aborts the run', async () => {
    for (const stopAt of ['step-start', 'step-finish']) {
      const run = model.generate({ prompt: 'x', ...QUICK });
      for await (const event of run) if (event.type === stopAt) break;
      expect(await rejection(run.result)).toBeInstanceOf(AbortError);
      expectNoLiveTensors(backend, prefixLayers());
    }
    const text = model.understand({ image, prompt: 'what is this?', size: 64, maxTokens: 5 });
    for await (const event of text) if (event.type === 'text-delta') break;
    expect(await rejection(text.result)).toBeInstanceOf(AbortError);
  });

  it('an abort during a slow graph run takes effect when that run returns, and starts nothing after it', async () => {
    const run = model.generate({ prompt: 'x', ...QUICK });
    let abortedDuringSlowRun = false;
    const first = backend.runs.length;
    backend.hooks = {
      beforeRun: async ({ graph }) => {
        if (graph !== 'vae_decoder') return;
        // The abort comes while the run is in flight (the 20 ms timer fires before the 300 ms one).
        setTimeout(() => run.abort(), 20);
        await new Promise((resolve) => setTimeout(resolve, 300));
        abortedDuringSlowRun = run.signal.aborted;
      },
    };
    const failure = await rejection(run.result);
    backend.hooks = {};
    expect(failure).toBeInstanceOf(AbortError);
    expect(abortedDuringSlowRun).toBe(true);
    expect(backend.runs.at(-1)?.graph).toBe('vae_decoder');
    expect(backend.runs.length - first).toBe(references.generate.graphs.length);
    expectNoLiveTensors(backend, prefixLayers());
  });
});

describe('abort during load', () => {
  it('an aborted signal rejects before any session exists', async () => {
    const failure = await rejection(loadInstrumented(undefined, { signal: AbortSignal.abort(new Error('cancelled')) }));
    expect(failure).toBeInstanceOf(AbortError);
    expect(failure.message).toBe('cancelled');
  });

  it('an abort while sessions are created (eager load) releases every session created so far', async () => {
    const { InstrumentedBackend } = await import('./support/instrumented-backend.js');
    const { NodeOrtBackend } = await import('../../adapters/node-ort/index.js');
    const backend = new InstrumentedBackend(new NodeOrtBackend());
    const controller = new AbortController();
    let created = 0;
    backend.hooks = {
      beforeCreateSession: () => {
        if (++created === 3) controller.abort(new Error('cancelled during session creation'));
      },
    };
    const phases: string[] = [];
    const failure = await rejection(
      UniPic.load(await tinyDir(), {
        dtype: 'fp32',
        device: 'cpu',
        backend,
        eager: true,
        signal: controller.signal,
        onProgress: (event) => phases.push(event.phase),
      }),
    );
    expect(failure).toBeInstanceOf(AbortError);
    expect(phases).toContain('session-create');
    expect(backend.sessionsCreated).toBe(3);
    expect(backend.liveSessions).toBe(0);
    await backend.dispose();
  });

  it('an abort while a lazy session is created during a call leaves a usable model', async () => {
    const { model, backend } = await loadInstrumented();
    let run: AnyRun | undefined;
    backend.hooks = {
      beforeCreateSession: async (graph) => {
        if (graph === 'mar_decoder') run?.abort();
      },
    };
    run = model.generate({ prompt: 'x', ...QUICK }) as AnyRun;
    expect(await rejection(run.result)).toBeInstanceOf(AbortError);
    backend.hooks = {};
    expect((await model.generate({ prompt: 'x', ...QUICK }).result).images).toHaveLength(1);
    expectNoLiveTensors(backend);
    await model.dispose();
    expect(backend.liveSessions).toBe(0);
  });
});

/** Results without timings (which differ run to run). */
function comparable(result: unknown): unknown {
  const value = result as { images?: { data: Uint8ClampedArray }[]; text?: string; tokens?: number[] };
  if (value.images) return value.images.map((image) => Buffer.from(image.data).toString('base64'));
  return { text: value.text, tokens: value.tokens };
}
