import { z } from 'zod';
import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import { hubOptionsSchema } from '../hub/hub-options.js';
import { networkOptionsSchema, type NetworkOptions } from './network-options.js';

/**
 * Options of a model load that concern where files come from. The loader validates them once at
 * its public boundary (they may sit beside its own options) and passes the parsed output on.
 */
export const sourceOptionsSchema = z
  .object({
    ...networkOptionsSchema.shape,
    /** Never touch the network: every file from the cache (or a local source), else ModelNotFoundError. */
    offline: z.boolean().default(false),
    /** Fetch unipic.json again although a cached copy exists (see docs/loading.md). */
    revalidate: z.boolean().default(false),
    /** Keep remote files in the disk cache (Node) or Cache API (browser). false: memory only. */
    cache: z.boolean().default(true),
    /** Node: root of the disk cache; each model gets `<cacheDir>/<url-hash>/`. */
    cacheDir: z.string().min(1).optional(),
    /** Browser: name of the Cache API cache. */
    cacheName: z.string().min(1).optional(),
    /** Identity under which a fetch-function source is cached; without one it is not cached. */
    cacheKey: z.string().min(1).optional(),
    /** `fast`: sizes plus recorded verifications; `full`: hash every file on every load. */
    verify: z.enum(['fast', 'full']).default('fast'),
    /** fetch implementation for URL sources (a proxy-aware fetch, a test double). */
    fetch: z.custom<typeof fetch>((value) => typeof value === 'function', 'must be a fetch function').optional(),
    /** `hf:` sources: token, endpoint, revision, HF cache root (Node defaults: HF_* variables). */
    hub: hubOptionsSchema.optional(),
  })
  .strict();

export type SourceOptionsInput = z.input<typeof sourceOptionsSchema>;
export type SourceOptions = z.output<typeof sourceOptionsSchema>;

export function parseSourceOptions(value: unknown): SourceOptions {
  const parsed = sourceOptionsSchema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
  throw new InvalidOptionsError(`Invalid model source options — ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
    details: { issues },
  });
}

export function networkOptionsOf(options: SourceOptions): NetworkOptions {
  const { retries, retryDelayMs, maxRetryDelayMs, timeoutMs, maxRedirects, headers } = options;
  return { retries, retryDelayMs, maxRetryDelayMs, timeoutMs, maxRedirects, headers };
}
