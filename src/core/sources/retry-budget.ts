import { toAbortError } from '../../errors/abort-error.js';
import { ModelNotFoundError } from '../../errors/model-not-found-error.js';
import { UniPicError } from '../../errors/unipic-error.js';
import { retryDelayMs, type NetworkOptions } from './network-options.js';
import type { TransientSourceError } from './transient-source-error.js';

/**
 * Decides, after each failure of one file's transfer, whether to try again. Counts failures in a
 * row: a transfer that keeps making progress between cuts is allowed to go on, one that fails
 * `retries + 1` times without a byte ends with a typed error carrying the last cause.
 */
export class RetryBudget {
  private failuresInRow = 0;
  private attempts = 0;

  constructor(
    private readonly what: string,
    private readonly options: NetworkOptions,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** An attempt starts. */
  attempt(): void {
    this.attempts += 1;
  }

  /** Bytes arrived: the transfer is alive. */
  progressed(): void {
    this.failuresInRow = 0;
  }

  /** Throws when `error` is final or the budget is spent; otherwise waits out the backoff. */
  async failed(error: unknown): Promise<void> {
    if (this.signal?.aborted) throw toAbortError(this.signal.reason);
    if (UniPicError.isInstance(error)) throw error;
    this.failuresInRow += 1;
    if (this.failuresInRow > this.options.retries) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ModelNotFoundError(`Could not fetch ${this.what} after ${this.attempts} attempts: ${reason}`, {
        cause: error,
        details: {
          attempts: this.attempts,
          status: (error as TransientSourceError | undefined)?.status,
          reason,
        },
      });
    }
    const retryAfter = (error as TransientSourceError | undefined)?.retryAfterMs;
    await sleep(retryDelayMs(this.failuresInRow, this.options, retryAfter), this.signal);
  }
}

function sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(toAbortError(signal.reason));
    const onAbort = () => {
      clearTimeout(timer);
      reject(toAbortError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
