/**
 * An in-memory stand-in for the Cache API with the semantics the browser cache relies on: `put`
 * reads the whole body first and stores nothing if the body errors; `match` returns a fresh
 * Response each time; an optional quota makes `put` throw a QuotaExceededError DOMException.
 */
interface StoredEntry {
  readonly body: ArrayBuffer;
  readonly headers: [string, string][];
}

export class FakeCache implements Pick<Cache, 'match' | 'put' | 'delete' | 'keys'> {
  readonly entries = new Map<string, StoredEntry>();
  puts = 0;

  constructor(private readonly owner: FakeCacheStorage) {}

  async match(request: RequestInfo | URL): Promise<Response | undefined> {
    const entry = this.entries.get(urlOf(request));
    return entry ? new Response(entry.body.slice(0), { headers: entry.headers }) : undefined;
  }

  async put(request: RequestInfo | URL, response: Response): Promise<void> {
    this.puts += 1;
    const body = await response.arrayBuffer();
    // What Chromium's Cache.put rejects with when its own storage fails mid-write.
    if (this.owner.failWrites) throw new TypeError("Failed to execute 'put' on 'Cache': Cache.put() encountered a network error");
    if (this.owner.usage() + body.byteLength > this.owner.quotaBytes) {
      throw new DOMException('Quota exceeded', 'QuotaExceededError');
    }
    this.entries.set(urlOf(request), { body, headers: [...response.headers] });
  }

  async delete(request: RequestInfo | URL): Promise<boolean> {
    return this.entries.delete(urlOf(request));
  }

  async keys(): Promise<readonly Request[]> {
    return [...this.entries.keys()].map((url) => new Request(url));
  }
}

export class FakeCacheStorage {
  readonly caches = new Map<string, FakeCache>();
  quotaBytes = Infinity;
  failWrites = false;

  async open(name: string): Promise<Cache> {
    let cache = this.caches.get(name);
    if (!cache) {
      cache = new FakeCache(this);
      this.caches.set(name, cache);
    }
    return cache as unknown as Cache;
  }

  usage(): number {
    let total = 0;
    for (const cache of this.caches.values()) for (const entry of cache.entries.values()) total += entry.body.byteLength;
    return total;
  }

  asCacheStorage(): CacheStorage {
    return this as unknown as CacheStorage;
  }
}

function urlOf(request: RequestInfo | URL): string {
  return typeof request === 'string' ? request : request instanceof URL ? request.href : request.url;
}
