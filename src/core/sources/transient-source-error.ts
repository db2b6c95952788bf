/**
 * A failure worth retrying (connection reset, cut mid-file, timeout, 5xx). Kept internal: once the
 * retries are spent it becomes the cause of a typed `ModelNotFoundError`. Anything that is a
 * `UniPicError` is final and is never retried.
 */
export class TransientSourceError extends Error {
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(message: string, options: { cause?: unknown; status?: number; retryAfterMs?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TransientSourceError';
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}
