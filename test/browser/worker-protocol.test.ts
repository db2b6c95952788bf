import { afterEach, describe, expect, it } from 'vitest';
import { AbortError, DisposedError, InvalidInputError, InvalidOptionsError, UniPicError } from '../../src/errors/index.js';
import type { LoadOptions } from '../../src/core/model/load-options.js';
import type { LoadProgressEvent } from '../../src/spec/progress.js';
import { createWorkerModel, type WorkerModel } from '../../src/worker/worker-client.js';
import { serveModel } from '../../src/worker/worker-host.js';
import { PROTOCOL_TAG, type MessageEndpoint } from '../../src/worker/protocol.js';
import { FakeModel } from './support/fake-model.js';
import type { UniPicModel } from '../../src/core/model/unipic-model.js';

/**
 * Compile-time check: the worker model offers the in-page model's public surface with the same
 * types. on/off/once come from the same EventEmitter<UniPicEvents> base but return `this`, so
 * they stay out of the Pick.
 */
type ModelSurface =
  | 'generate'
  | 'understand'
  | 'edit'
  | 'dispose'
  | 'disposed'
  | 'pendingCalls'
  | 'manifest'
  | 'config'
  | 'capabilities'
  | 'backendInfo'
  | 'dtypes'
  | 'loadWarnings';
export const sameSurface = (model: WorkerModel): Pick<UniPicModel, ModelSurface> => model;

/**
 * The worker protocol over a real MessageChannel in Node (structured clone, transfer), with a
 * fake model on the far side. Chromium tests run the same code in a real Worker with a real model.
 */
describe('worker protocol', () => {
  let stop: (() => Promise<void>) | undefined;
  let served: FakeModel | undefined;
  let loads: { source: unknown; options: LoadOptions }[] = [];
  let channel: MessageChannel;

  function serve(): MessagePort {
    channel = new MessageChannel();
    loads = [];
    stop = serveModel(channel.port2, async (source, options) => {
      loads.push({ source, options });
      options.onProgress?.({ phase: 'download', file: 'a.onnx', fileLoaded: 5, fileTotal: 10, loaded: 5, total: 10 });
      options.onProgress?.({ phase: 'download', file: 'a.onnx', fileLoaded: 10, fileTotal: 10, loaded: 10, total: 10 });
      if (source === 'slow://model') await new Promise((resolve) => setTimeout(resolve, 100));
      served = new FakeModel(options as Record<string, unknown>);
      return served;
    });
    return channel.port1;
  }

  afterEach(async () => {
    await stop?.();
    channel?.port1.close();
    channel?.port2.close();
  });

  async function load(): Promise<WorkerModel> {
    return createWorkerModel(serve(), 'https://models.example/tiny/', { device: 'wasm', backendOptions: { wasmPaths: 'https://cdn.example/ort/' } });
  }

  it('loads in the worker, forwards options and progress, mirrors the model description', async () => {
    const progress: LoadProgressEvent[] = [];
    const model = await createWorkerModel(serve(), 'https://models.example/tiny/', {
      device: 'wasm',
      threads: 2,
      onProgress: (event) => progress.push(event),
    });
    expect(loads).toHaveLength(1);
    expect(loads[0].source).toBe('https://models.example/tiny/');
    expect(loads[0].options).toMatchObject({ device: 'wasm', threads: 2 });
    expect(typeof loads[0].options.onProgress).toBe('function');
    expect(progress.map((event) => event.loaded)).toEqual([5, 10]);
    expect(model.capabilities).toEqual(['generate', 'understand']);
    expect(model.backendInfo.device).toBe('wasm');
    expect(model.loadWarnings).toEqual([{ code: 'dtype-fallback', message: 'fake warning' }]);
    expect(model.config).toEqual({ fake: true });
  });

  it('streams generate events and rebuilds images, transferring their pixels', async () => {
    const model = await load();
    const modelEvents: string[] = [];
    model.on('run-start', () => modelEvents.push('run-start'));
    model.on('run-end', (info) => modelEvents.push(`run-end:${info.outcome}`));
    const run = model.generate({ prompt: 'a cat', size: 3, seed: 7, steps: 3 });
    const events: { type: string; iteration?: number }[] = [];
    for await (const event of run) events.push(event);
    expect(events.map((event) => `${event.type}:${event.iteration}`)).toEqual([
      'step-start:0',
      'image-preview:0',
      'step-start:1',
      'image-preview:1',
      'step-start:2',
      'image-preview:2',
    ]);
    const preview = events[1] as unknown as { images: { data: Uint8ClampedArray }[] };
    expect(preview.images[0].data).toBeInstanceOf(Uint8ClampedArray);
    expect([...preview.images[0].data]).toEqual([0, 0, 0, 255]);
    const result = await run.result;
    const expected = new Uint8ClampedArray(3 * 3 * 4).map((_, i) => (i * 7) % 256);
    expect(result.images[0].width).toBe(3);
    expect(result.images[0].data).toEqual(expected);
    // The encoders come back with the pixels: a PNG signature, then IHDR with the size.
    const png = result.images[0].toPNG();
    expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(new DataView(png.buffer, png.byteOffset).getUint32(16)).toBe(3);
    // Transferred, not copied: the worker-side buffer is detached.
    expect(served?.lastImageData?.byteLength).toBe(0);
    // No wait needed: the worker posts run-end before the result, and one channel keeps the order.
    expect(modelEvents).toEqual(['run-start', 'run-end:success']);
  });

  it('streams understand text deltas', async () => {
    const model = await load();
    const run = model.understand({ image: new Uint8Array([1, 2, 3]), prompt: 'what is this' });
    const deltas: string[] = [];
    for await (const event of run) if (event.type === 'text-delta') deltas.push(event.delta);
    expect(deltas.join('')).toBe('WHAT IS THIS ');
    expect((await run.result).text).toBe('WHAT IS THIS');
  });

  it('rebuilds SDK errors as their class, wraps foreign ones, and throws option errors from the call', async () => {
    const model = await load();
    const typed = await model.generate({ prompt: 'fail-typed' }).result.catch((error: unknown) => error);
    expect(typed).toBeInstanceOf(InvalidInputError);
    expect((typed as InvalidInputError).details).toEqual({ prompt: 'fail-typed' });
    const plain = await model.generate({ prompt: 'fail-plain' }).result.catch((error: unknown) => error);
    expect(UniPicError.isInstance(plain)).toBe(true);
    expect(plain).toMatchObject({ code: 'WORKER_ERROR', message: 'something broke' });
    expect((plain as Error).cause).toMatchObject({ name: 'TypeError' });
    expect(() => model.generate({ prompt: '' })).toThrow(InvalidOptionsError);
    expect(() => model.generate({ prompt: 'x', steps: 0 })).toThrow(InvalidOptionsError);
    expect(() => model.edit({ prompt: 'x', image: new Uint8Array(1) })).toThrow(/not loaded for edit/);
    const random = { order: () => [], normal: () => 0, uniform: () => 0 };
    expect(() => model.generate({ prompt: 'x', random: random as never })).toThrow(/RandomSource cannot cross/);
  });

  it('aborts a run in the worker by id: run.abort(), a signal, or leaving the loop', async () => {
    const model = await load();
    const ends: string[] = [];
    model.on('run-end', (info) => ends.push(info.outcome));

    const first = model.generate({ prompt: 'slow', steps: 50 });
    setTimeout(() => first.abort(new AbortError('user pressed cancel')), 30);
    const error = await first.result.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as Error).message).toBe('user pressed cancel');
    expect(served?.callSignals[0].aborted).toBe(true);

    const controller = new AbortController();
    const second = model.generate({ prompt: 'slow', steps: 50, signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    await expect(second.result).rejects.toBeInstanceOf(AbortError);
    expect(served?.callSignals[1].aborted).toBe(true);

    const third = model.generate({ prompt: 'slow', steps: 50 });
    let seen = 0;
    for await (const _event of third) if (++seen === 2) break;
    await expect(third.result).rejects.toBeInstanceOf(AbortError);
    expect(served?.callSignals[2].aborted).toBe(true);
    // Each call rejects on the worker's error message, posted after its run-end: all three are in.
    expect(ends).toEqual(['aborted', 'aborted', 'aborted']);
  });

  it('aborts a load', async () => {
    const controller = new AbortController();
    const loading = createWorkerModel(serve(), 'slow://model', { signal: controller.signal });
    setTimeout(() => controller.abort(new AbortError('changed my mind')), 20);
    await expect(loading).rejects.toThrow('changed my mind');
    // The model the worker finished building after the abort was disposed, not leaked (the worker
    // disposes it before it answers the load with the abort).
    expect(served?.disposed).toBe(true);
  });

  it('dispose aborts running calls, disposes the worker model, and refuses later calls', async () => {
    const model = await load();
    const running = model.generate({ prompt: 'slow', steps: 50 });
    expect(model.pendingCalls).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await model.dispose();
    await expect(running.result).rejects.toBeInstanceOf(AbortError);
    expect(served?.disposed).toBe(true);
    expect(model.disposed).toBe(true);
    expect(() => model.generate({ prompt: 'x' })).toThrow(DisposedError);
  });

  it('fails every pending request when the worker dies', async () => {
    // A Worker-like endpoint: messages go nowhere, then the script fails.
    class DeadWorker extends EventTarget {
      posted: unknown[] = [];
      postMessage(message: unknown) {
        this.posted.push(message);
      }
      terminate() {}
    }
    const worker = new DeadWorker();
    const loading = createWorkerModel(worker as unknown as MessageEndpoint, 'https://models.example/tiny/');
    expect(worker.posted[0]).toMatchObject({ protocol: PROTOCOL_TAG, kind: 'load' });
    const failure = new Event('error') as Event & { message?: string };
    Object.defineProperty(failure, 'message', { value: 'Uncaught SyntaxError: nope' });
    worker.dispatchEvent(failure);
    await expect(loading).rejects.toMatchObject({ code: 'WORKER_FAILED', message: expect.stringContaining('SyntaxError: nope') });
  });
});
