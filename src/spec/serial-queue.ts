/**
 * Runs jobs one after another, in call order; a failure does not block the next. The one serial
 * queue of the SDK: adapters put every session run and the final release through one (WebGPU
 * rejects a second `run` while one is in flight, and a native session must not be released under
 * a running job), and a model queues its calls through one.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;

  /** Jobs queued or running. */
  get size(): number {
    return this.waiting;
  }

  /** Same as `size` (a model's `pendingCalls`). */
  get pending(): number {
    return this.waiting;
  }

  enqueue<T>(job: () => Promise<T>): Promise<T> {
    this.waiting++;
    const result = this.tail.then(job).finally(() => {
      this.waiting--;
    });
    // The next job waits for this one to settle, whatever its outcome.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Resolves once everything queued so far has settled. */
  idle(): Promise<void> {
    return this.tail;
  }
}
