import { ModelNotFoundError } from '../../errors/model-not-found-error.js';

const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

/**
 * fetch() that follows redirects itself so the number of hops is bounded by the caller (a loop
 * ends with a typed error instead of the runtime's generic one) and credentials are not carried to
 * another origin (model hubs redirect to CDNs with signed URLs). Browsers hide manual redirects
 * (`opaqueredirect`); there the request is sent again with the browser's own bounded following.
 */
export async function fetchFollowingRedirects(fetchImplementation: typeof fetch, url: string, init: RequestInit, maxRedirects: number): Promise<Response> {
  let current = url;
  const headers = new Headers(init.headers);
  for (let hops = 0; ; hops++) {
    const response = await fetchImplementation(current, { ...init, headers, redirect: 'manual' });
    if (response.type === 'opaqueredirect') {
      return fetchImplementation(current, { ...init, headers, redirect: 'follow' });
    }
    const location = response.headers.get('location');
    if (!REDIRECT_STATUS.has(response.status) || !location) return response;
    await response.body?.cancel().catch(() => undefined);
    if (hops >= maxRedirects) {
      throw new ModelNotFoundError(`${url}: more than ${maxRedirects} redirects (a redirect loop?)`, {
        details: { reason: 'too-many-redirects', maxRedirects },
      });
    }
    const next = new URL(location, current);
    if (next.origin !== new URL(current).origin) {
      headers.delete('authorization');
      headers.delete('cookie');
    }
    current = next.href;
  }
}
