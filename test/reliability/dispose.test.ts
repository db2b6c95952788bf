import { describe, expect, it } from 'vitest';
import { AbortError, UniPic } from '../../src/index.node.js';
import type { Backend } from '../../src/spec/backend.js';
import { imageFixture, loadInstrumented, QUICK, rejection, tinyDir } from './support/tiny-fixture.js';

describe('dispose() during a run', () => {
  it('aborts the running call and the queued ones, then frees every session and tensor', async () => {
    const { model, backend } = await loadInstrumented();
    const image = imageFixture('rgb-64x64.png');
    // A cached image prefix exists before the dispose: it must be freed too.
    await model.understand({ image, size: 64, maxTokens: 2 }).result;
    const outcomes: string[] = [];
    model.on('run-end', ({ outcome }) => outcomes.push(outcome));
    let disposed: Promise<void> | undefined;
    let disposeEvents = 0;
    model.on('dispose', () => disposeEvents++);
    backend.hooks = {
      beforeRun: ({ graph }) => {
        if (graph === 'diffusion_head') disposed ??= model.dispose();
      },
    };
    const running = model.generate({ prompt: 'x', ...QUICK });
    const queued = [model.understand({ image, size: 64, maxTokens: 2 }), model.edit({ image, prompt: 'x', ...QUICK })];
    const failures = await Promise.all([running, ...queued].map((run) => rejection(run.result)));
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(AbortError);
      expect(failure.message).toBe('the model was disposed');
    }
    await disposed;
    expect(outcomes).toEqual(['aborted']);
    expect(disposeEvents).toBe(1);
    expect(model.disposed).toBe(true);
    expect(backend.liveSessions).toBe(0);
    // The native ORT sessions behind the wrapper are released too.
    expect(backend.inner.liveSessions).toBe(0);
    expect(backend.liveTensors).toBe(0);
    expect(backend.runsInFlight).toBe(0);
  });

  it('waits for the graph run in flight before releasing sessions (never frees under a running graph)', async () => {
    const { model, backend } = await loadInstrumented();
    let runEnded = false;
    let runEndedBeforeDisposed: boolean | undefined;
    let disposed: Promise<void> | undefined;
    backend.hooks = {
      beforeRun: async ({ graph }) => {
        if (graph !== 'vae_decoder') return;
        disposed = model.dispose().then(() => {
          runEndedBeforeDisposed = runEnded;
        });
        await new Promise((resolve) => setTimeout(resolve, 200));
        runEnded = true;
      },
    };
    const run = model.generate({ prompt: 'x', ...QUICK });
    expect(await rejection(run.result)).toBeInstanceOf(AbortError);
    await disposed;
    expect(runEndedBeforeDisposed).toBe(true);
    expect(backend.liveSessions).toBe(0);
    expect(backend.liveTensors).toBe(0);
  });

  it('dispose during understand decoding frees the growing KV cache and the cached prefix', async () => {
    const { model, backend } = await loadInstrumented();
    backend.hooks = {
      beforeRun: ({ graph, ofGraph }) => {
        if (graph === 'lm_head' && ofGraph === 3) void model.dispose();
      },
    };
    const run = model.understand({ image: imageFixture('photo-444-64x48.jpg'), size: 64, maxTokens: 10 });
    const deltas: string[] = [];
    const consumed = (async () => {
      for await (const event of run) if (event.type === 'text-delta') deltas.push(event.delta);
    })();
    expect(await rejection(consumed)).toBeInstanceOf(AbortError);
    await model.dispose();
    expect(deltas.length).toBeLessThanOrEqual(2);
    expect(backend.liveTensors).toBe(0);
    expect(backend.liveSessions).toBe(0);
  });

  it('every concurrent dispose() caller resolves only after the release', async () => {
    const { model, backend } = await loadInstrumented();
    const run = model.generate({ prompt: 'x', ...QUICK });
    void model.dispose();
    // A second caller (say, a shutdown hook) must not resolve before the release is done.
    await model.dispose();
    expect(backend.liveSessions).toBe(0);
    expect(backend.liveTensors).toBe(0);
    expect(await rejection(run.result)).toBeInstanceOf(AbortError);
    await model.dispose();
  });

  it('a model that created its own backend releases that backend’s sessions too', async () => {
    const model = await UniPic.load(await tinyDir(), { dtype: 'fp32', device: 'cpu', threads: 1 });
    await model.generate({ prompt: 'x', ...QUICK }).result;
    // The backend is internal; reached here only to count its sessions.
    const backend = (model as unknown as { parts: { backend: Backend } }).parts.backend;
    expect(backend.liveSessions).toBeGreaterThan(0);
    await model.dispose();
    expect(backend.liveSessions).toBe(0);
    await expect(backend.createSession({ name: 'embed', path: 'x' })).rejects.toMatchObject({ code: 'DISPOSED' });
  });
});
