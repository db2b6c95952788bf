/**
 * Runs jobs one after another. WebGPU rejects a second `run` while one is in flight ("Session
 * already started"), and a native session must not be released under a running job, so every
 * run and the final release go through one of these.
 */
export class RunQueue {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;

  /** Jobs queued or running. */
  get size(): number {
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
