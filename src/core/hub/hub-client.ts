import { z } from 'zod';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { ModelNotFoundError } from '../../errors/model-not-found-error.js';
import { AttemptSignal } from '../sources/attempt-signal.js';
import { encodePath } from '../sources/model-source.js';
import type { NetworkOptions } from '../sources/network-options.js';
import { fetchFollowingRedirects } from '../sources/redirecting-fetch.js';
import { RetryBudget } from '../sources/retry-budget.js';
import { TransientSourceError } from '../sources/transient-source-error.js';
import type { HubRepoFile, HubSnapshot } from './hub-files.js';
import { hubErrorOf, type HubRequestContext } from './hub-response-error.js';

/** How to reach the Hub: resolved options (Node: with the environment's defaults). */
export interface HubSettings {
  /** Origin (and optional path prefix) of the Hub or a mirror, no trailing slash. */
  readonly endpoint: string;
  readonly token?: string;
  readonly fetch: typeof fetch;
  readonly network: NetworkOptions;
}

/** A listing is a few hundred kilobytes even for large repositories. */
const MAX_LISTING_BYTES = 32 * 1024 * 1024;
const HEX40 = /^[0-9a-f]{40}$/;
const HEX64 = /^[0-9a-f]{64}$/;

// Only the fields used are checked; a mirror may add more.
const revisionInfoSchema = z.object({
  sha: z.string().regex(HEX40),
  siblings: z.array(
    z.object({
      // A listed path becomes a path in the cache: only plain relative paths are accepted.
      rfilename: z
        .string()
        .min(1)
        .refine(
          (path) => !path.startsWith('/') && !path.includes('\\') && path.split('/').every((part) => part !== '' && part !== '.' && part !== '..'),
          'not a plain relative path',
        ),
      size: z.number().int().nonnegative().optional(),
      blobId: z.string().optional(),
      lfs: z
        .object({ sha256: z.string().regex(HEX64), size: z.number().int().nonnegative() })
        .partial()
        .optional()
        .nullable(),
    }),
  ),
});

export function hubHost(settings: Pick<HubSettings, 'endpoint'>): string {
  return new URL(settings.endpoint).host;
}

/** Headers of a request to the Hub's own host: the user's, the token, and identity encoding. */
export function hubHeaders(settings: HubSettings): Record<string, string> {
  const headers: Record<string, string> = { ...settings.network.headers };
  const hasAuthorization = Object.keys(headers).some((name) => name.toLowerCase() === 'authorization');
  if (settings.token !== undefined && !hasAuthorization) headers.authorization = `Bearer ${settings.token}`;
  return headers;
}

export function hubRepoPath(repo: string): string {
  return encodePath(repo);
}

/** `<endpoint>/<repo>/resolve/<commit>/<path>`: a file's bytes (the Hub redirects LFS files to its CDN). */
export function hubResolveUrl(settings: Pick<HubSettings, 'endpoint'>, repo: string, commit: string, path: string): string {
  return `${settings.endpoint}/${hubRepoPath(repo)}/resolve/${encodeURIComponent(commit)}/${encodePath(path)}`;
}

/**
 * `GET <endpoint>/api/models/<repo>/revision/<revision>?blobs=true`: the commit the revision
 * points to and every file with its size, git blob id and LFS sha256. Transient failures are
 * retried like file transfers; refusals become `HubError`s.
 */
export async function fetchHubSnapshot(settings: HubSettings, repo: string, revision: string, signal?: AbortSignal): Promise<HubSnapshot> {
  const url = `${settings.endpoint}/api/models/${hubRepoPath(repo)}/revision/${encodeURIComponent(revision)}?blobs=true`;
  const context: HubRequestContext = { repo, revision, tokenSent: settings.token !== undefined, host: hubHost(settings) };
  const what = `the file list of hf:${repo}@${revision}`;
  const text = await fetchText(settings, url, what, context, signal);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InvalidModelError(`${what} from ${context.host} is not JSON`, { cause });
  }
  const parsed = revisionInfoSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidModelError(`${what} from ${context.host} is not a Hub revision listing: ${parsed.error.issues[0]?.message}`);
  }
  const files: HubRepoFile[] = [];
  for (const sibling of parsed.data.siblings) {
    const size = sibling.size ?? sibling.lfs?.size;
    if (size === undefined) {
      throw new InvalidModelError(`${what} from ${context.host} gives no size for ${sibling.rfilename} (does the server support ?blobs=true?)`);
    }
    files.push({
      path: sibling.rfilename,
      size,
      ...(sibling.blobId && HEX40.test(sibling.blobId) ? { gitSha1: sibling.blobId } : {}),
      ...(sibling.lfs?.sha256 ? { sha256: sibling.lfs.sha256 } : {}),
    });
  }
  return { repo, revision, commit: parsed.data.sha, files };
}

async function fetchText(settings: HubSettings, url: string, what: string, context: HubRequestContext, signal: AbortSignal | undefined): Promise<string> {
  const budget = new RetryBudget(what, settings.network, signal);
  const headers = { ...hubHeaders(settings), accept: 'application/json' };
  for (;;) {
    budget.attempt();
    const attempt = new AttemptSignal(signal, settings.network.timeoutMs);
    try {
      const response = await fetchFollowingRedirects(settings.fetch, url, { headers, signal: attempt.signal }, settings.network.maxRedirects);
      if (response.ok) {
        const text = await response.text();
        if (text.length > MAX_LISTING_BYTES) throw new InvalidModelError(`${what} is larger than ${MAX_LISTING_BYTES} bytes`);
        return text;
      }
      await response.body?.cancel().catch(() => undefined);
      const refused = hubErrorOf(response.status, response.headers, context);
      if (refused) throw refused;
      if (response.status === 408 || response.status === 425 || response.status === 429 || response.status >= 500) {
        throw new TransientSourceError(`HTTP ${response.status} for ${what}`, { status: response.status });
      }
      throw new ModelNotFoundError(`${what}: unexpected HTTP ${response.status} from ${context.host}`, {
        details: { status: response.status },
      });
    } catch (error) {
      await budget.failed(error);
    } finally {
      attempt.dispose();
    }
  }
}
