/**
 * Runs tasks one after another. Calls on one model share sessions and KV buffers, and WebGPU
 * refuses concurrent runs, so they queue instead of racing.
 */
export class TaskQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pendingCount = 0;

  get pending(): number {
    return this.pendingCount;
  }

  enqueue<T>(task: () => Promise<T>): Promise<T> {
    this.pendingCount++;
    const next = this.tail.then(task, task);
    this.tail = next.then(
      () => this.pendingCount--,
      () => this.pendingCount--,
    );
    return next;
  }
}
