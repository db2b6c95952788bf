import { describe, expect, it } from 'vitest';
import { AbortError, UniPicError } from '../../src/errors/index.js';
import { Run } from '../../src/core/run/run.js';
import { SerialQueue } from '../../src/spec/serial-queue.js';

type Tick = { type: 'tick'; n: number };

/** A run that emits `count` ticks, one per macrotask, checking its signal between them. */
function ticking(count: number, signal?: AbortSignal, seen: { aborted?: boolean } = {}) {
  return new Run<Tick, number>(async ({ emit, signal: own }) => {
    for (let n = 0; n < count; n++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (own.aborted) {
        seen.aborted = true;
        throw new AbortError('stopped', { cause: own.reason });
      }
      emit({ type: 'tick', n });
    }
    return count;
  }, signal);
}

describe('Run', () => {
  it('yields every event in order, then resolves result', async () => {
    const run = ticking(5);
    const got: number[] = [];
    for await (const event of run) got.push(event.n);
    expect(got).toEqual([0, 1, 2, 3, 4]);
    await expect(run.result).resolves.toBe(5);
  });

  it('keeps events emitted before the consumer starts', async () => {
    const run = ticking(3);
    await run.result;
    const got: number[] = [];
    for await (const event of run) got.push(event.n);
    expect(got).toEqual([0, 1, 2]);
  });

  it('has one consumer: a second iteration throws RUN_CONSUMED', async () => {
    const run = ticking(1);
    for await (const _ of run);
    await expect(
      (async () => {
        for await (const _ of run);
      })(),
    ).rejects.toMatchObject({ code: 'RUN_CONSUMED' });
  });

  it('aborts the work when the consumer breaks out of the loop', async () => {
    const seen: { aborted?: boolean } = {};
    const run = ticking(100, undefined, seen);
    for await (const event of run) if (event.n === 2) break;
    await expect(run.result).rejects.toBeInstanceOf(AbortError);
    expect(seen.aborted).toBe(true);
  });

  it('follows the caller signal, rejects with AbortError carrying the reason, and detaches afterwards', async () => {
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const run = ticking(100, controller.signal);
    setTimeout(() => controller.abort(reason), 5);
    const error = await run.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).name).toBe('AbortError');
    // A finished run no longer listens to a long-lived signal.
    const shared = new AbortController();
    const added: unknown[] = [];
    const removed: unknown[] = [];
    const signal = shared.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((t: string, l: EventListener, o?: AddEventListenerOptions) => (added.push(l), add(t, l, o))) as typeof signal.addEventListener;
    signal.removeEventListener = ((t: string, l: EventListener) => (removed.push(l), remove(t, l))) as typeof signal.removeEventListener;
    await ticking(1, signal).result;
    expect(removed).toEqual(added);
  });

  it('starts aborted when the signal already is', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(ticking(1, controller.signal).result).rejects.toBeInstanceOf(AbortError);
  });

  it('throws a fatal error from the iterator and rejects result with the same error', async () => {
    const failure = new UniPicError('BOOM', 'failed');
    const run = new Run<Tick, number>(async ({ emit }) => {
      emit({ type: 'tick', n: 0 });
      throw failure;
    });
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const event of run) got.push(event.n);
      })(),
    ).rejects.toBe(failure);
    await expect(run.result).rejects.toBe(failure);
    expect(got).toEqual([0]);
  });

  it('streams as a ReadableStream, and cancelling the stream aborts at once', async () => {
    const reader = ticking(3).toReadableStream().getReader();
    const got: number[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) got.push(r.value.n);
    expect(got).toEqual([0, 1, 2]);

    let producerSignal: AbortSignal | undefined;
    const slow = new Run<Tick, number>(async ({ emit, signal }) => {
      producerSignal = signal;
      emit({ type: 'tick', n: 0 });
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, 5_000);
        signal.addEventListener('abort', () => (clearTimeout(timer), reject(new AbortError('cancelled'))));
      });
      return 1;
    });
    const stream = slow.toReadableStream().getReader();
    await stream.read();
    const cancelled = stream.cancel('not needed');
    // At once: the producer's signal is aborted by the cancel call itself, not by a later tick.
    expect(producerSignal?.aborted).toBe(true);
    await cancelled;
    await expect(slow.result).rejects.toBeInstanceOf(AbortError);
  });
});

describe('SerialQueue (model calls)', () => {
  it('runs tasks one after another in call order, and a failure does not block the next', async () => {
    const queue = new SerialQueue();
    const order: string[] = [];
    let running = 0;
    const task =
      (name: string, fail = false) =>
      async () => {
        running++;
        expect(running).toBe(1);
        order.push(`${name}:start`);
        await new Promise((resolve) => setTimeout(resolve, 2));
        order.push(`${name}:end`);
        running--;
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([queue.enqueue(task('a')), queue.enqueue(task('b', true)), queue.enqueue(task('c'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(order).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
    expect(queue.pending).toBe(0);
  });
});
