import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import { createFetchSource, createUrlSource, type FetchFunction } from './fetch-source.js';
import { createFileMapSource, type FileMap } from './file-map-source.js';
import { isModelSource, type ModelSource } from './model-source.js';
import type { SourceOptions } from './source-options.js';

/**
 * What a user may pass as "the model": a URL (string or URL object) of a model folder, a local
 * folder path (Node), a map of files, a fetch function, or a ready `ModelSource`.
 */
export type ModelLocation = string | URL | ModelSource | FileMap | FetchFunction;

/** Platform hook: how a string that is not an absolute http(s) URL becomes a source. */
export type LocalStringSource = (location: string) => ModelSource;

export function sourceFromLocation(location: ModelLocation, options: SourceOptions, fromOtherString: LocalStringSource): ModelSource {
  const network = { headers: options.headers, maxRedirects: options.maxRedirects };
  const urlOptions = { network, ...(options.fetch ? { fetch: options.fetch } : {}) };
  if (typeof location === 'string') {
    return /^https?:\/\//i.test(location) ? createUrlSource(location, urlOptions) : fromOtherString(location);
  }
  if (location instanceof URL) {
    if (location.protocol === 'http:' || location.protocol === 'https:') return createUrlSource(location, urlOptions);
    return fromOtherString(location.href);
  }
  if (isModelSource(location)) return location;
  if (typeof location === 'function') {
    return createFetchSource(location, {
      headers: options.headers,
      ...(options.cacheKey !== undefined ? { cacheKey: options.cacheKey } : {}),
    });
  }
  if (typeof location === 'object' && location !== null) {
    return createFileMapSource(location, {
      headers: options.headers,
      maxRedirects: options.maxRedirects,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }
  throw new InvalidOptionsError('The model must be a URL, a folder path, a file map, a fetch function or a ModelSource', {
    details: { issues: [{ path: 'model', message: `got ${typeof location}` }] },
  });
}
