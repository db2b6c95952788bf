import { z } from 'zod';
import { isSafeRevision } from './hub-id.js';

/** Where `https://huggingface.co`-style requests go when neither the option nor `HF_ENDPOINT` says. */
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

/**
 * Options of `hf:` sources. In Node each defaults to its environment variable (`HF_TOKEN`,
 * `HF_ENDPOINT`, `HF_HUB_CACHE`/`HF_HOME`); browsers have no environment, so they come from here.
 */
export const hubOptionsSchema = z
  .object({
    /** Sent as `Authorization: Bearer …` to the Hub's host only (never to the CDN it redirects to). */
    token: z.string().min(1).optional(),
    /** A mirror of the Hub (same URL layout), e.g. `https://hf-mirror.example`. */
    endpoint: z
      .string()
      .url()
      .refine((value) => /^https?:\/\//i.test(value), 'must be an http(s) URL')
      .optional(),
    /** Branch, tag or commit when the id names none (default `main`). */
    revision: z.string().min(1).refine(isSafeRevision, 'not a revision name').optional(),
    /** Node: the Hugging Face cache root (default `HF_HUB_CACHE`, else `$HF_HOME/hub`). */
    cacheDir: z.string().min(1).optional(),
  })
  .strict();

export type HubOptions = z.output<typeof hubOptionsSchema>;
