import { z } from 'zod';

/**
 * How hard a remote source tries. Retries cover transient failures only: connection errors, cuts
 * mid-file, timeouts, HTTP 408/425/429/5xx. A 404, an access refusal or an integrity failure is
 * final at once.
 */
export const networkOptionsSchema = z
  .object({
    /** Failed attempts tolerated per file in a row (a byte of progress resets the count). */
    retries: z.number().int().min(0).max(20).default(4),
    /** First backoff delay; each further failure doubles it, with jitter, up to maxRetryDelayMs. */
    retryDelayMs: z.number().min(0).max(60_000).default(250),
    maxRetryDelayMs: z.number().min(0).max(600_000).default(8_000),
    /** An attempt fails when no response or no byte arrives for this long. 0 turns it off. */
    timeoutMs: z.number().int().min(0).default(30_000),
    /** Redirects followed per request before giving up (a loop ends here). */
    maxRedirects: z.number().int().min(0).max(50).default(10),
    /** Sent with every request, e.g. `{ Authorization: 'Bearer …' }` for a gated repository. */
    headers: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export type NetworkOptions = z.output<typeof networkOptionsSchema>;

export const DEFAULT_NETWORK_OPTIONS: NetworkOptions = networkOptionsSchema.parse({});

/**
 * Delay before retry number `failures` (1-based): exponential with "equal jitter" so clients that
 * failed together do not retry together, and a server's Retry-After is honoured up to the cap.
 */
export function retryDelayMs(failures: number, options: NetworkOptions, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, options.maxRetryDelayMs);
  const ceiling = Math.min(options.maxRetryDelayMs, options.retryDelayMs * 2 ** (failures - 1));
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}
