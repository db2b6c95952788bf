import { openWithFetch, type FetchFunction } from '../sources/fetch-source.js';
import type { ModelSource } from '../sources/model-source.js';
import { fetchFollowingRedirects } from '../sources/redirecting-fetch.js';
import { formatHubId } from './hub-id.js';
import { hubHeaders, hubHost, hubResolveUrl, type HubSettings } from './hub-client.js';
import { hubErrorOf } from './hub-response-error.js';

export interface HubSourceTarget {
  readonly repo: string;
  /** The commit every file is read at, so all files come from one consistent state. */
  readonly commit: string;
  /** Folder inside the repository that source paths are relative to (`''` for the root). */
  readonly subfolder: string;
}

/**
 * The files of a repository at one commit, read through `/resolve/` URLs. The token goes to the
 * Hub's host only: the redirect to the CDN (another origin) drops `Authorization`. Refusals
 * (401/403/404 with the Hub's `X-Error-Code`) become `HubError`s; bytes, ranges, retries and
 * resumes are the ordinary transfer machinery's.
 */
export function createHubSource(settings: HubSettings, target: HubSourceTarget): ModelSource {
  const description = formatHubId({ repo: target.repo, revision: target.commit, subfolder: target.subfolder });
  const repoPath = (path: string) => (target.subfolder ? `${target.subfolder}/${path}` : path);
  const context = { repo: target.repo, revision: target.commit, tokenSent: settings.token !== undefined, host: hubHost(settings) };
  const fetchFile: FetchFunction = async (path, init) => {
    const url = hubResolveUrl(settings, target.repo, target.commit, repoPath(path));
    const response = await fetchFollowingRedirects(settings.fetch, url, init, settings.network.maxRedirects);
    const refused = hubErrorOf(response.status, response.headers, { ...context, path: repoPath(path) });
    if (refused) {
      await response.body?.cancel().catch(() => undefined);
      throw refused;
    }
    return response;
  };
  const headers = hubHeaders(settings);
  return {
    kind: 'hub',
    description,
    cacheKey: `${settings.endpoint}/${target.repo}/resolve/${target.commit}/${target.subfolder ? `${target.subfolder}/` : ''}`,
    isRemote: () => true,
    open: (path, request) => openWithFetch(fetchFile, path, `${path} from ${description}`, request, headers),
  };
}
