import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NumericError, OrtRuntimeError, OutOfMemoryError, type UniPic, type Run } from '../../src/index.node.js';
import { poison, type InstrumentedBackend } from './support/instrumented-backend.js';
import { expectNoLiveTensors, imageFixture, loadInstrumented, QUICK, rejection } from './support/tiny-fixture.js';

type AnyRun = Run<{ type: string }, unknown>;

function comparable(result: unknown): unknown {
  const value = result as { images?: { data: Uint8ClampedArray }[]; text?: string; tokens?: number[] };
  if (value.images) return value.images.map((image) => Buffer.from(image.data).toString('base64'));
  return { text: value.text, tokens: value.tokens };
}

describe('faults inside a call leave a usable model and nothing alive', () => {
  let model: UniPic;
  let backend: InstrumentedBackend;
  const image = imageFixture('rgb-64x64.png');
  const calls = {
    generate: () => model.generate({ prompt: 'a lighthouse', ...QUICK }) as AnyRun,
    edit: () => model.edit({ image, prompt: 'make it blue', ...QUICK }) as AnyRun,
    understand: () => model.understand({ image, prompt: 'what is this?', size: 64, maxTokens: 3 }) as AnyRun,
  };
  const references: Record<string, unknown> = {};
  const outcomes: string[] = [];

  beforeAll(async () => {
    ({ model, backend } = await loadInstrumented());
    for (const [name, start] of Object.entries(calls)) references[name] = comparable(await start().result);
    model.on('run-end', ({ outcome }) => outcomes.push(outcome));
  });
  afterAll(async () => model.dispose());

  /** Run `call` with hooks set, expect it to fail, then check the invariants and a clean retry. */
  async function failWith(capability: keyof typeof calls, hooks: InstrumentedBackend['hooks']) {
    backend.hooks = hooks;
    let failure: Error & { code?: string; details?: unknown };
    let iteratorFailure: unknown;
    try {
      const run = calls[capability]();
      const consumed = (async () => {
        for await (const _event of run);
      })();
      failure = await rejection(run.result);
      iteratorFailure = await rejection(consumed);
    } finally {
      backend.hooks = {};
    }
    expect(iteratorFailure).toBe(failure);
    expect(outcomes.at(-1)).toBe('error');
    expectNoLiveTensors(backend, model.config.llm.numLayers);
    // A clean call right after gives the reference result (tolerance 0: same seed, same backend).
    expect(comparable(await calls[capability]().result)).toEqual(references[capability]);
    return failure;
  }

  // Outputs the core keeps on the device for the next graph (src/core/model/graphs.ts skips them).
  // The in-place KV cache's new keys/values are downloaded into the host cache, so they are scanned.
  const KEPT_FOR_NEXT_GRAPH = new Set(['x_enc', 'llm_in', 'last_hidden_state']);
  // [capability, graph, output, which run of the graph within the call (1-based), value]
  const poisoned: [keyof typeof calls, string, string, number, number][] = [
    ['generate', 'embed', 'inputs_embeds', 1, Number.NaN],
    ['generate', 'llm', 'new_key_values.0.key', 1, Number.POSITIVE_INFINITY],
    ['generate', 'mar_encoder', 'x_enc', 1, Number.NaN],
    ['generate', 'mar_encoder', 'llm_in', 2, Number.NEGATIVE_INFINITY],
    ['generate', 'llm', 'last_hidden_state', 2, Number.NaN],
    ['generate', 'mar_decoder', 'z', 2, Number.NaN],
    ['generate', 'diffusion_head', 'out', 3, Number.POSITIVE_INFINITY],
    ['generate', 'vae_decoder', 'pixels', 1, Number.NaN],
    ['edit', 'vae_encoder', 'latents', 1, Number.NaN],
    ['edit', 'decoder_embed', 'fill', 1, Number.NEGATIVE_INFINITY],
    ['understand', 'lm_head', 'logits', 2, Number.NaN],
    ['understand', 'llm', 'new_key_values.1.value', 1, Number.POSITIVE_INFINITY],
  ];

  for (const [capability, graph, output, nth, value] of poisoned) {
    it(`${value} in ${graph}.${output} (run ${nth} of ${capability}) is a NumericError, never an image or text`, async () => {
      const base = backend.runsOf(graph);
      const element = 5;
      const failure = await failWith(capability, {
        afterRun: (context) => (context.graph === graph && context.ofGraph === base + nth ? { [output]: poison(value, element) } : undefined),
      });
      expect(failure).toBeInstanceOf(NumericError);
      expect(failure.code).toBe('NUMERIC');
      if (KEPT_FOR_NEXT_GRAPH.has(output)) {
        // Not scanned where produced (a pass over the whole KV cache per token would cost more
        // than the token); the poison surfaces in the next graph's checked outputs instead.
        expect(['llm', 'mar_decoder', 'lm_head']).toContain((failure.details as { graph: string }).graph);
      } else {
        expect(failure.details).toEqual({ graph, output, index: element });
        expect(failure.message).toContain(String(value));
      }
    });
  }

  it('an out-of-memory error from a run surfaces unchanged', async () => {
    const oom = new OutOfMemoryError('injected: device out of memory');
    const base = backend.runsOf('diffusion_head');
    const failure = await failWith('generate', {
      beforeRun: ({ graph, ofGraph }) => {
        if (graph === 'diffusion_head' && ofGraph === base + 5) throw oom;
      },
    });
    expect(failure).toBe(oom);
  });

  it('a runtime error in the decoder of an edit surfaces unchanged', async () => {
    const error = new OrtRuntimeError('injected: kernel failed');
    const failure = await failWith('edit', {
      beforeRun: ({ graph }) => {
        if (graph === 'vae_decoder') throw error;
      },
    });
    expect(failure).toBe(error);
  });

  it('a failure while decoding text keeps the cached image prefix intact', async () => {
    await calls.understand().result;
    const base = backend.runsOf('lm_head');
    const failure = await failWith('understand', {
      beforeRun: ({ graph, ofGraph }) => {
        if (graph === 'lm_head' && ofGraph === base + 2) throw new OrtRuntimeError('injected');
      },
    });
    expect(failure).toBeInstanceOf(OrtRuntimeError);
    const again = (await calls.understand().result) as { reusedImageCache: boolean };
    expect(again.reusedImageCache).toBe(true);
  });
});

describe('session creation failures', () => {
  it('fail the call with the typed error; the next call creates the session again', async () => {
    const { model, backend } = await loadInstrumented();
    const oom = new OutOfMemoryError('injected: no memory for the VAE decoder');
    let refusals = 1;
    backend.hooks = {
      beforeCreateSession: (graph) => {
        if (graph === 'vae_decoder' && refusals-- > 0) throw oom;
      },
    };
    expect(await rejection(model.generate({ prompt: 'x', ...QUICK }).result)).toBe(oom);
    expectNoLiveTensors(backend);
    const created = backend.sessionsCreated;
    expect((await model.generate({ prompt: 'x', ...QUICK }).result).images).toHaveLength(1);
    expect(backend.sessionsCreated).toBe(created + 1);
    await model.dispose();
    expect(backend.liveSessions).toBe(0);
  });
});
