import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNobleSha256 } from '../../src/browser/noble-sha256.js';
import { estimateStorage } from '../../src/browser/storage-estimate.js';
import { openBrowserModel } from '../../src/browser/open-browser-model.js';
import { AbortError, IntegrityError, ModelNotFoundError } from '../../src/errors/index.js';
import type { LoadProgressEvent } from '../../src/spec/progress.js';
import { FakeCacheStorage } from './support/fake-cache-storage.js';
import { expectProgressInvariants, FAST_RETRIES } from './support/fixture.js';
import { makeSyntheticModel, sha256Hex } from './support/synthetic-model.js';
import { serveModel, type TestServer } from './support/test-server.js';

const LARGE = 'graphs/llm.fp32.onnx.data';

describe('noble sha256', () => {
  it('matches node:crypto when fed in uneven chunks', () => {
    const bytes = new Uint8Array(100_003).map((_, index) => (index * 7919) % 251);
    const hash = createNobleSha256();
    for (let at = 0; at < bytes.length; at += 4_097) hash.update(bytes.subarray(at, at + 4_097));
    expect(hash.digestHex()).toBe(sha256Hex(bytes));
  });
});

describe('browser Cache API cache (fake Cache, real HTTP)', () => {
  const model = makeSyntheticModel({ largeBytes: 200_000 });
  let server: TestServer;
  let baseUrl: string;
  let storage: FakeCacheStorage;
  const open = (options: Record<string, unknown> = {}) => openBrowserModel(baseUrl, { caches: storage.asCacheStorage(), ...FAST_RETRIES, ...options });

  beforeEach(async () => {
    ({ server, baseUrl } = await serveModel(model.files, model.manifestText));
    storage = new FakeCacheStorage();
  });
  afterEach(async () => server.close());

  it('stores verified files, delivers object URLs, and the second load makes no request', async () => {
    const opened = await open();
    const paths = opened.filesFor({ capabilities: ['understand'], dtype: 'fp32', sizes: [256] });
    const events: LoadProgressEvent[] = [];
    const files = await opened.resolve(paths, { onProgress: (event) => events.push(event) });
    expectProgressInvariants(
      events,
      paths.reduce((sum, path) => sum + model.files.get(path)!.byteLength, 0),
    );
    const large = files.get(LARGE);
    expect(large.kind).toBe('url');
    if (large.kind !== 'url') return;
    // The object URL serves exactly the verified bytes.
    const served = new Uint8Array(await (await fetch(large.url)).arrayBuffer());
    expect(sha256Hex(served)).toBe(sha256Hex(model.files.get(LARGE)!));
    files.release();

    const requests = server.requests.length;
    const again = await open();
    const cachedEvents: LoadProgressEvent[] = [];
    await again.resolve(paths, { onProgress: (event) => cachedEvents.push(event) });
    expect(server.requests.length).toBe(requests);
    expect(cachedEvents.every((event) => event.phase === 'cache-read')).toBe(true);
    expect(await again.isAvailableOffline(paths)).toBe(true);
  });

  it('wrong bytes are never stored', async () => {
    server.addFault(LARGE, { kind: 'corrupt' });
    const opened = await open();
    await expect(opened.resolve([LARGE])).rejects.toBeInstanceOf(IntegrityError);
    const cache = storage.caches.get('unipic-v1')!;
    expect([...cache.entries.keys()].some((url) => url.endsWith(LARGE))).toBe(false);
  });

  it('a full quota is a typed cache-full error', async () => {
    storage.quotaBytes = 100_000; // room for the manifest and small files, not the large one
    const opened = await open();
    await expect(opened.resolve([LARGE])).rejects.toMatchObject({ code: 'INVALID_MODEL', details: { reason: 'cache-full' } });
  });

  it("the browser's storage failing mid-write (Cache.put's TypeError, our download intact) is a typed cache-write-failed error", async () => {
    const opened = await open();
    storage.failWrites = true;
    const failure = await opened.resolve([LARGE]).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'INVALID_MODEL', details: { reason: 'cache-write-failed' } });
    expect((failure as Error).message).toMatch(/could not store .*retry.*cache: false/);
    expect((failure as Error & { cause?: unknown }).cause).toBeInstanceOf(TypeError);
  });

  it('offline serves from the cache and refuses what is not there', async () => {
    await expect(open({ offline: true })).rejects.toBeInstanceOf(ModelNotFoundError);
    expect(server.requests).toHaveLength(0);
    const online = await open();
    await online.resolve(['tokenizer.json']);
    const requests = server.requests.length;
    const offline = await open({ offline: true });
    await expect(offline.resolve(['tokenizer.json'])).resolves.toBeDefined();
    await expect(offline.resolve([LARGE])).rejects.toBeInstanceOf(ModelNotFoundError);
    expect(server.requests.length).toBe(requests);
  });

  it('an abort mid-file rejects with AbortError and stores nothing', async () => {
    server.chunkDelayMs = 3;
    const controller = new AbortController();
    const opened = await open();
    const failure = await opened
      .resolve([LARGE], {
        signal: controller.signal,
        onProgress: (event) => {
          if (event.fileLoaded > 50_000) controller.abort();
        },
      })
      .catch((error) => error);
    expect(failure).toBeInstanceOf(AbortError);
    expect([...storage.caches.get('unipic-v1')!.entries.keys()].some((url) => url.endsWith(LARGE))).toBe(false);
  });

  it('a stored entry whose record does not match the manifest is dropped and fetched again', async () => {
    const opened = await open();
    await opened.resolve(['tokenizer.json']);
    const cache = storage.caches.get('unipic-v1')!;
    const key = [...cache.entries.keys()].find((url) => url.endsWith('tokenizer.json'))!;
    const entry = cache.entries.get(key)!;
    cache.entries.set(key, { ...entry, headers: entry.headers.map(([name, value]) => [name, name === 'x-unipic-sha256' ? '0'.repeat(64) : value]) });
    await (await open()).resolve(['tokenizer.json']);
    expect(server.requestsFor('tokenizer.json')).toHaveLength(2);
  });

  it("verify: 'full' rehashes hits and catches corrupted stored bytes", async () => {
    const opened = await open();
    await opened.resolve(['tokenizer.json']);
    const cache = storage.caches.get('unipic-v1')!;
    const key = [...cache.entries.keys()].find((url) => url.endsWith('tokenizer.json'))!;
    const entry = cache.entries.get(key)!;
    const damaged = new Uint8Array(entry.body.slice(0));
    damaged[5] ^= 1;
    cache.entries.set(key, { ...entry, body: damaged.buffer });
    await (await open()).resolve(['tokenizer.json']);
    expect(server.requestsFor('tokenizer.json')).toHaveLength(1); // fast: trusted record
    const files = await (await open({ verify: 'full' })).resolve(['tokenizer.json']);
    expect(server.requestsFor('tokenizer.json')).toHaveLength(2);
    const file = files.get('tokenizer.json');
    if (file.kind !== 'url') throw new Error('expected a URL');
    expect(sha256Hex(new Uint8Array(await (await fetch(file.url)).arrayBuffer()))).toBe(sha256Hex(model.files.get('tokenizer.json')!));
  });

  it('caching off (or no Cache API) delivers bytes and stores nothing', async () => {
    const opened = await openBrowserModel(baseUrl, { cache: false, caches: storage.asCacheStorage() });
    const file = (await opened.resolve(['tokenizer.json'])).get('tokenizer.json');
    expect(file.kind).toBe('bytes');
    expect(storage.caches.size).toBe(0);
  });

  it('delete(path) evicts one file; clear() removes only this model', async () => {
    const opened = await open();
    await opened.resolve(['tokenizer.json', 'tokenizer_config.json']);
    const entry = opened.entry('tokenizer.json');
    expect(await opened.cache!.has(entry)).toBe(true);
    await opened.cache!.delete('tokenizer.json');
    expect(await opened.cache!.has(entry)).toBe(false);
    expect(await opened.cache!.has(opened.entry('tokenizer_config.json'))).toBe(true);
    const cache = storage.caches.get('unipic-v1')!;
    cache.entries.set('https://elsewhere.example/other/unipic.json', { body: new ArrayBuffer(1), headers: [] });
    await opened.cache!.clear();
    expect([...cache.entries.keys()]).toEqual(['https://elsewhere.example/other/unipic.json']);
  });
});

describe('storage estimate', () => {
  it('reports usage, quota and persistence from navigator.storage', async () => {
    const fake = { estimate: async () => ({ usage: 10, quota: 100 }), persisted: async () => true };
    expect(await estimateStorage(fake)).toEqual({ usage: 10, quota: 100, persisted: true });
    expect(await estimateStorage(undefined)).toEqual({});
  });
});
