import { AbortError, toAbortError } from '../../errors/abort-error.js';
import { UniPicError } from '../../errors/unipic-error.js';

/** Hands a producer the means to emit events and to notice cancellation. */
export interface RunController<Event> {
  emit(event: Event): void;
  readonly signal: AbortSignal;
}

/**
 * What every capability returns: an async iterable of typed events plus a `result` promise.
 * One consumer only; leaving a `for await` early (`break`) aborts the work. A fatal error throws
 * from the iterator and rejects `result`; an abort rejects with an `AbortError`.
 */
export class Run<Event extends { type: string }, Result> implements AsyncIterable<Event> {
  readonly result: Promise<Result>;
  private readonly buffer: Event[] = [];
  private waiter: (() => void) | undefined;
  private settled = false;
  private failure: unknown;
  private consumed = false;
  private readonly controller = new AbortController();
  private detach: (() => void) | undefined;

  constructor(producer: (controller: RunController<Event>) => Promise<Result>, signal?: AbortSignal) {
    if (signal) {
      if (signal.aborted) this.controller.abort(signal.reason);
      else {
        // Removed once the run settles, so a long-lived signal does not keep finished runs alive.
        const follow = () => this.controller.abort(signal.reason);
        signal.addEventListener('abort', follow, { once: true });
        this.detach = () => signal.removeEventListener('abort', follow);
      }
    }
    const emit = (event: Event) => {
      if (this.settled) return;
      this.buffer.push(event);
      this.wake();
    };
    this.result = (async () => {
      try {
        if (this.controller.signal.aborted) throw toAbortError(this.controller.signal.reason);
        return await producer({ emit, signal: this.controller.signal });
      } catch (error) {
        throw this.controller.signal.aborted && !(error instanceof AbortError) && !UniPicError.isInstance(error)
          ? toAbortError(this.controller.signal.reason)
          : error;
      }
    })();
    this.result.then(
      () => this.finish(undefined),
      (error) => this.finish(error ?? new Error('run failed')),
    );
    // An unobserved rejection is reported through the iterator; avoid an unhandled-rejection crash
    // when the caller only iterates.
    this.result.catch(() => undefined);
  }

  /** Cancel the run; `result` rejects with an AbortError carrying `reason`. */
  abort(reason?: unknown): void {
    this.controller.abort(reason ?? new AbortError('The run was aborted'));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  private finish(error: unknown): void {
    this.detach?.();
    this.settled = true;
    this.failure = error;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Event> {
    if (this.consumed) throw new UniPicError('RUN_CONSUMED', 'A run can be iterated only once');
    this.consumed = true;
    let completed = false;
    try {
      for (;;) {
        while (this.buffer.length) yield this.buffer.shift() as Event;
        if (this.settled) break;
        await new Promise<void>((resolve) => (this.waiter = resolve));
      }
      completed = true;
      if (this.failure !== undefined) throw this.failure;
    } finally {
      // `break` or a throw in the consumer's loop body lands here before completion.
      if (!completed && !this.settled) this.abort(new AbortError('The run was aborted: its consumer stopped iterating'));
    }
  }

  /** Events as a web ReadableStream (e.g. to pipe into a Response). */
  toReadableStream(): ReadableStream<Event> {
    const iterator = this[Symbol.asyncIterator]();
    return new ReadableStream<Event>({
      async pull(controller) {
        try {
          const { value, done } = await iterator.next();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          controller.error(error);
        }
      },
      cancel: async (reason) => {
        // Abort first: the generator only sees return() after its pending next() settles.
        this.abort(new AbortError(`the run's stream was cancelled${reason ? `: ${String(reason)}` : ''}`));
        await iterator.return?.();
      },
    });
  }
}
