import { DEFAULT_NETWORK_OPTIONS, type NetworkOptions } from './network-options.js';
import { interpretResponse } from './http-response.js';
import { encodePath, type ModelSource, type OpenRequest, type OpenedFile } from './model-source.js';
import { fetchFollowingRedirects } from './redirecting-fetch.js';
import { TransientSourceError } from './transient-source-error.js';

/**
 * A user-supplied way to get a model file: called with the manifest path and a RequestInit that
 * carries the `Range`/`If-Range` headers of a resume and the abort signal. Answer like an HTTP
 * server would (200, 206, 404...).
 */
export type FetchFunction = (path: string, init: RequestInit) => Promise<Response>;

export interface FetchSourceOptions {
  /** Identity for caching. Without one, files from this source are kept in memory only. */
  readonly cacheKey?: string;
  readonly description?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export function createFetchSource(fetchFile: FetchFunction, options: FetchSourceOptions = {}): ModelSource {
  const description = options.description ?? 'the fetch function';
  return {
    kind: 'fetch',
    description,
    ...(options.cacheKey !== undefined ? { cacheKey: options.cacheKey } : {}),
    isRemote: () => true,
    open: (path, request) => openWithFetch(fetchFile, path, `${path} from ${description}`, request, options.headers ?? {}),
  };
}

export interface UrlSourceOptions {
  readonly network?: Pick<NetworkOptions, 'headers' | 'maxRedirects'>;
  /** A fetch implementation (a proxy agent, a test double); the global fetch by default. */
  readonly fetch?: typeof fetch;
}

/** An http(s) folder: `<base>/unipic.json`, `<base>/<path>`. */
export function createUrlSource(baseUrl: string | URL, options: UrlSourceOptions = {}): ModelSource {
  const base = normalizeBaseUrl(baseUrl);
  const network = { ...DEFAULT_NETWORK_OPTIONS, ...options.network };
  const fetchImplementation = options.fetch ?? globalThis.fetch.bind(globalThis);
  const description = redactUrl(base);
  const fetchFile: FetchFunction = (path, init) => fetchFollowingRedirects(fetchImplementation, new URL(encodePath(path), base).href, init, network.maxRedirects);
  return {
    kind: 'url',
    description,
    cacheKey: base.href,
    isRemote: () => true,
    open: (path, request) => openWithFetch(fetchFile, path, `${description}${path}`, request, network.headers),
  };
}

/** A folder URL with a trailing slash and no fragment, so relative paths resolve inside it. */
export function normalizeBaseUrl(baseUrl: string | URL): URL {
  const url = new URL(baseUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`model URL must be http(s), got ${url.protocol}`);
  }
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/** For messages: no user info, no query string (signed URLs and tokens stay out of logs). */
export function redactUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** GET `path` through `fetchFile`, resuming at `request.offset` when the server can prove the copy unchanged. */
export async function openWithFetch(
  fetchFile: FetchFunction,
  path: string,
  what: string,
  request: OpenRequest,
  extraHeaders: Readonly<Record<string, string>>,
): Promise<OpenedFile> {
  let { offset } = request;
  for (;;) {
    const headers = new Headers(extraHeaders);
    // Byte ranges must address the stored bytes, not a compressed rendition of them.
    headers.set('accept-encoding', 'identity');
    if (offset > 0) {
      headers.set('range', `bytes=${offset}-`);
      if (request.validator !== undefined) headers.set('if-range', request.validator);
    }
    const response = await fetchFile(path, { headers, signal: request.signal });
    const outcome = await interpretResponse(response, what, offset, request.validator);
    if (outcome.kind === 'file') return outcome.file;
    if (offset === 0) throw new TransientSourceError(`${what}: the server answered a plain GET with a range`);
    offset = 0;
  }
}
