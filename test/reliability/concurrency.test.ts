import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, type UniPic, type Run } from '../../src/index.node.js';
import type { InstrumentedBackend } from './support/instrumented-backend.js';
import { expectNoLiveTensors, imageFixture, loadInstrumented, QUICK, rejection } from './support/tiny-fixture.js';

type AnyRun = Run<{ type: string }, unknown>;

/** Results without timings, comparable bit for bit. */
function comparable(result: unknown): unknown {
  const value = result as { images?: { data: Uint8ClampedArray }[]; text?: string; tokens?: number[] };
  if (value.images) return value.images.map((image) => Buffer.from(image.data).toString('base64'));
  return { text: value.text, tokens: value.tokens };
}

describe('ten concurrent calls on one model', () => {
  let model: UniPic;
  let backend: InstrumentedBackend;
  const photo = imageFixture('photo-444-64x48.jpg');
  const square = imageFixture('rgb-64x64.png');
  // A mix of every capability, two understand calls on the same image (prefix reuse between
  // queued calls) and one on another.
  const calls: (() => AnyRun)[] = [
    () => model.generate({ prompt: 'a boat', ...QUICK, seed: 1 }) as AnyRun,
    () => model.understand({ image: photo, prompt: 'what?', size: 64, maxTokens: 4 }) as AnyRun,
    () => model.edit({ image: square, prompt: 'darker', ...QUICK, seed: 2 }) as AnyRun,
    () => model.generate({ prompt: 'a tree', ...QUICK, seed: 3, numImages: 2 }) as AnyRun,
    () => model.understand({ image: photo, prompt: 'colours?', size: 64, maxTokens: 4 }) as AnyRun,
    () => model.generate({ prompt: 'a boat', ...QUICK, seed: 4, guidance: 1 }) as AnyRun,
    () => model.understand({ image: square, prompt: 'what?', size: 64, maxTokens: 4 }) as AnyRun,
    () => model.edit({ image: photo, prompt: 'brighter', ...QUICK, seed: 5 }) as AnyRun,
    () => model.generate({ prompt: 'a cloud', ...QUICK, seed: 6 }) as AnyRun,
    () => model.understand({ image: photo, prompt: 'what?', size: 64, maxTokens: 4 }) as AnyRun,
  ];
  const references: unknown[] = [];

  beforeAll(async () => {
    ({ model, backend } = await loadInstrumented());
    // One at a time, each awaited: the answers a queue must reproduce.
    for (const call of calls) references.push(comparable(await call().result));
  });
  afterAll(async () => model.dispose());

  it('queue: all complete, in order, one graph run at a time, with the results of sequential calls', async () => {
    const lifecycle: string[] = [];
    const onStart = ({ id }: { id: number }) => lifecycle.push(`start ${id}`);
    const onEnd = ({ id, outcome }: { id: number; outcome: string }) => lifecycle.push(`end ${id} ${outcome}`);
    model.on('run-start', onStart).on('run-end', onEnd);
    const finished: number[] = [];
    const runs = calls.map((call) => call());
    expect(model.pendingCalls).toBe(10);
    const results = await Promise.all(runs.map((run, index) => run.result.then((value) => (finished.push(index), value))));
    model.off('run-start', onStart).off('run-end', onEnd);

    expect(results.map(comparable)).toEqual(references);
    expect(finished).toEqual([...calls.keys()]);
    // Calls never overlap: every start is followed by its own end.
    for (let i = 0; i < lifecycle.length; i += 2) {
      const id = lifecycle[i].split(' ')[1];
      expect(lifecycle[i]).toBe(`start ${id}`);
      expect(lifecycle[i + 1]).toBe(`end ${id} success`);
    }
    expect(lifecycle).toHaveLength(20);
    expect(backend.maxRunsInFlight).toBe(1);
    expect(model.pendingCalls).toBe(0);
    expectNoLiveTensors(backend, model.config.llm.numLayers);
  });

  it('each run streams only its own events', async () => {
    const runs = [calls[0](), calls[3](), calls[1]()];
    const events = await Promise.all(
      runs.map(async (run) => {
        const seen: string[] = [];
        for await (const event of run) seen.push(event.type);
        return seen;
      }),
    );
    expect(events[0].filter((type) => type === 'step-finish')).toHaveLength(QUICK.steps);
    expect(events[1].filter((type) => type === 'step-finish')).toHaveLength(QUICK.steps);
    expect(events[2]).not.toContain('step-start');
    for (const seen of events) expect(seen.filter((type) => type === 'finish')).toHaveLength(1);
  });

  it('aborting queued and running calls: the aborted ones reject at once, the others complete unchanged', async () => {
    // #4 is aborted from inside its own second graph run; #2 and #7 while they wait in the queue.
    let starts = 0;
    let fourthFirstRun = -1;
    const onStart = () => {
      starts++;
      // Calls 0, 1, 3 start before #4 (#2 never starts).
      if (starts === 4) fourthFirstRun = backend.runs.length;
    };
    model.on('run-start', onStart);
    backend.hooks = {
      beforeRun: ({ call }) => {
        if (fourthFirstRun >= 0 && call === fourthFirstRun + 2) runs[4].abort();
      },
    };
    const runs = calls.map((call) => call());
    const queuedFailures = Promise.all([rejection(runs[2].result), rejection(runs[7].result)]);
    runs[2].abort();
    runs[7].abort(new Error('not needed any more'));
    const [second, seventh] = await queuedFailures;
    expect(second).toBeInstanceOf(AbortError);
    expect(seventh).toBeInstanceOf(AbortError);
    expect(seventh.message).toBe('not needed any more');
    // They rejected while the first call was still running, not when the queue reached them.
    expect(starts).toBe(1);

    const settled = await Promise.allSettled(runs.map((run) => run.result));
    backend.hooks = {};
    model.off('run-start', onStart);
    expect(starts).toBe(8);
    settled.forEach((outcome, index) => {
      if ([2, 4, 7].includes(index)) {
        expect(outcome.status, `call ${index}`).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason, `call ${index}`).toBeInstanceOf(AbortError);
      } else {
        expect(outcome.status, `call ${index}`).toBe('fulfilled');
        expect(comparable((outcome as PromiseFulfilledResult<unknown>).value), `call ${index}`).toEqual(references[index]);
      }
    });
    expect(model.pendingCalls).toBe(0);
    expectNoLiveTensors(backend, model.config.llm.numLayers);
  });
});
