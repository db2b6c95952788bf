import type { CacheFileContext, ModelCache } from '../core/cache/model-cache.js';
import type { OpenFileStream } from '../core/sources/file-stream.js';
import { FileVerifier } from '../core/sources/file-verifier.js';
import type { HashFactory } from '../core/sources/incremental-hash.js';
import { encodePath, MANIFEST_FILE } from '../core/sources/model-source.js';
import type { ResolvedFile } from '../core/sources/resolved-file.js';
import { streamChunks } from '../core/sources/stream-chunks.js';
import { throwIfAborted } from '../errors/abort-error.js';
import { IntegrityError } from '../errors/integrity-error.js';
import type { FileEntry } from '../spec/manifest.js';
import { toCacheApiError } from './cache-api-error.js';
import { createNobleSha256 } from './noble-sha256.js';

export const DEFAULT_CACHE_NAME = 'unipic-v1';

/** Headers recording what a stored entry was verified as (the browser's verification record). */
const SHA256_HEADER = 'x-unipic-sha256';
const SIZE_HEADER = 'x-unipic-size';

export interface CacheApiCacheOptions {
  /** The model's identity (its base URL); entries are keyed under it. */
  readonly key: string;
  readonly cacheName?: string;
  /** `caches` by default; injectable for tests and for non-window scopes. */
  readonly caches?: CacheStorage;
  readonly createHash?: HashFactory;
  /** `url` (default): an object URL over the stored Blob, no copy into the JS heap. */
  readonly deliver?: 'url' | 'bytes';
}

/**
 * The browser cache of one model, in the Cache API. An entry is written by streaming the download
 * through a verifier into `cache.put`; a wrong size or digest errors the stream, so `put` rejects
 * and nothing is stored. A hit is trusted from the headers recorded at verification (no rehash;
 * `verify: 'full'` rehashes). There is no resume across page loads: a Cache API entry cannot be
 * appended to, so an interrupted file starts over (cuts within one load are still resumed).
 */
export class CacheApiCache implements ModelCache {
  readonly description: string;
  private readonly base: URL;
  private readonly cacheName: string;
  private readonly storage: CacheStorage;
  private readonly createHash: HashFactory;
  private readonly deliver: 'url' | 'bytes';

  constructor(options: CacheApiCacheOptions) {
    this.base = cacheBaseUrl(options.key);
    this.cacheName = options.cacheName ?? DEFAULT_CACHE_NAME;
    const storage = options.caches ?? (globalThis as { caches?: CacheStorage }).caches;
    if (!storage) throw new TypeError('The Cache API is not available here (insecure context?); pass cache: false');
    this.storage = storage;
    this.createHash = options.createHash ?? createNobleSha256;
    this.deliver = options.deliver ?? 'url';
    this.description = `Cache API "${this.cacheName}" (${this.base.origin}${this.base.pathname})`;
  }

  private requestFor(path: string): Request {
    return new Request(new URL(encodePath(path), this.base).href);
  }

  private async cache(): Promise<Cache> {
    try {
      return await this.storage.open(this.cacheName);
    } catch (error) {
      throw toCacheApiError(error, this.description);
    }
  }

  async readManifest(): Promise<string | undefined> {
    const response = await (await this.cache()).match(this.requestFor(MANIFEST_FILE));
    return response ? response.text() : undefined;
  }

  async writeManifest(text: string): Promise<void> {
    const cache = await this.cache();
    const response = new Response(text, { headers: { 'content-type': 'application/json' } });
    await cache.put(this.requestFor(MANIFEST_FILE), response).catch((error: unknown) => {
      throw toCacheApiError(error, this.description, true);
    });
  }

  async lookup(entry: FileEntry, context: CacheFileContext): Promise<ResolvedFile | undefined> {
    const cache = await this.cache();
    const request = this.requestFor(entry.path);
    const response = await cache.match(request);
    if (!response) return undefined;
    if (!recordMatches(response.headers, entry)) {
      await cache.delete(request);
      return undefined;
    }
    const blob = await response.blob();
    if (blob.size !== entry.size) {
      await cache.delete(request);
      return undefined;
    }
    if (context.verify === 'full') {
      const verifier = new FileVerifier(entry, this.createHash);
      for await (const chunk of streamChunks(blob.stream())) {
        throwIfAborted(context.signal);
        verifier.update(chunk);
        context.onBytes('cache-read', verifier.bytes);
      }
      try {
        verifier.assertComplete();
      } catch (error) {
        if (!(error instanceof IntegrityError)) throw error;
        await cache.delete(request);
        return undefined;
      }
    } else {
      context.onBytes('cache-read', entry.size);
    }
    return this.toResolved(entry, blob);
  }

  async store(entry: FileEntry, open: OpenFileStream, context: CacheFileContext): Promise<ResolvedFile> {
    const cache = await this.cache();
    const request = this.requestFor(entry.path);
    const stream = await open(0);
    const chunks = stream.chunks[Symbol.asyncIterator]();
    const verifier = new FileVerifier(entry, this.createHash);
    let failure: unknown;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) {
            verifier.assertComplete();
            controller.close();
            return;
          }
          verifier.update(next.value);
          context.onBytes('download', verifier.bytes);
          controller.enqueue(next.value);
        } catch (error) {
          failure = error;
          controller.error(error);
        }
      },
      async cancel() {
        await chunks.return?.();
      },
    });
    const headers = {
      'content-type': 'application/octet-stream',
      [SHA256_HEADER]: entry.sha256,
      [SIZE_HEADER]: String(entry.size),
    };
    try {
      await cache.put(request, new Response(body, { headers }));
    } catch (error) {
      await cache.delete(request).catch(() => undefined);
      throw failure ?? toCacheApiError(error, this.description, true);
    } finally {
      await chunks.return?.();
      await stream.cancel();
    }
    const stored = await cache.match(request);
    if (!stored) throw new IntegrityError(`${entry.path} vanished from ${this.description} right after it was stored`);
    return this.toResolved(entry, await stored.blob());
  }

  async has(entry: FileEntry): Promise<boolean> {
    const response = await (await this.cache()).match(this.requestFor(entry.path));
    return response !== undefined && recordMatches(response.headers, entry);
  }

  async delete(path: string): Promise<void> {
    await (await this.cache()).delete(this.requestFor(path));
  }

  /** Delete this model's entries (other models in the same cache stay). */
  async clear(): Promise<void> {
    const cache = await this.cache();
    const prefix = this.base.href;
    for (const request of await cache.keys()) if (request.url.startsWith(prefix)) await cache.delete(request);
  }

  private async toResolved(entry: FileEntry, blob: Blob): Promise<ResolvedFile> {
    if (this.deliver === 'bytes') return { kind: 'bytes', entry, bytes: new Uint8Array(await blob.arrayBuffer()) };
    const url = URL.createObjectURL(blob);
    return { kind: 'url', entry, url, release: () => URL.revokeObjectURL(url) };
  }
}

function recordMatches(headers: Headers, entry: FileEntry): boolean {
  return headers.get(SHA256_HEADER) === entry.sha256 && headers.get(SIZE_HEADER) === String(entry.size);
}

/** Cache API keys must be http(s) URLs: a URL key is used as is, any other key gets a private one. */
function cacheBaseUrl(key: string): URL {
  try {
    const url = new URL(key);
    if (url.protocol === 'http:' || url.protocol === 'https:') {
      url.search = '';
      url.hash = '';
      if (!url.pathname.endsWith('/')) url.pathname += '/';
      return url;
    }
  } catch {
    // not a URL: fall through
  }
  return new URL(`https://unipic-cache.invalid/${encodeURIComponent(key)}/`);
}
