import { UniPicError } from './unipic-error.js';

/**
 * The call was aborted through its AbortSignal, `break`, or `dispose()`. Named `AbortError` like
 * the DOM's so generic abort handling (`err.name === 'AbortError'`) recognises it.
 */
export class AbortError extends UniPicError {
  static readonly code = 'ABORTED';
  constructor(message = 'The operation was aborted', options: { cause?: unknown; details?: unknown } = {}) {
    super('ABORTED', message, options);
    this.name = 'AbortError';
  }
}
UniPicError.register('ABORTED', (message, details, cause) => new AbortError(message, { details, cause }));

/** Throw an AbortError carrying the signal's reason if the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw toAbortError(signal.reason);
}

export function toAbortError(reason: unknown): AbortError {
  if (reason instanceof AbortError) return reason;
  const message = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'The operation was aborted';
  return new AbortError(message, { cause: reason });
}
