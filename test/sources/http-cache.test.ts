import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openNodeModel } from '../../src/node/open-node-model.js';
import type { LoadProgressEvent } from '../../src/spec/progress.js';
import { expectProgressInvariants, FAST_RETRIES, startFixture, type Fixture } from './support/fixture.js';
import { sha256Hex } from './support/synthetic-model.js';

describe('HTTP source with the Node disk cache', () => {
  let fixture: Fixture;
  beforeEach(async () => {
    fixture = await startFixture();
  });
  afterEach(async () => fixture.dispose());

  it('reports total up front, monotonic bytes and ends at 100%, then delivers verified paths', async () => {
    fixture.server.chunkDelayMs = 1; // separate chunks, as over a real network
    const model = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir, ...FAST_RETRIES });
    const paths = model.filesFor({ capabilities: ['generate'], dtype: 'fp32', sizes: [256] });
    const expectedTotal = paths.reduce((sum, path) => sum + fixture.model.files.get(path)!.byteLength, 0);
    const events: LoadProgressEvent[] = [];
    const files = await model.resolve(paths, { onProgress: (event) => events.push(event) });

    expect(events[0].total).toBe(expectedTotal);
    expectProgressInvariants(events, expectedTotal);
    expect(new Set(events.map((event) => event.phase))).toEqual(new Set(['download']));
    // Several events inside the 300 kB file: progress is byte-accurate, not per file.
    expect(events.filter((event) => event.file === 'graphs/llm.fp32.onnx.data').length).toBeGreaterThan(5);
    for (const path of paths) {
      const file = files.get(path);
      expect(file.kind).toBe('path');
      if (file.kind !== 'path') continue;
      expect(sha256Hex(await readFile(file.path))).toBe(sha256Hex(fixture.model.files.get(path)!));
    }
    // Graphs keep the manifest layout so ONNX Runtime finds external data beside the graph.
    const graph = files.get('graphs/llm.fp32.onnx');
    const data = files.get('graphs/llm.fp32.onnx.data');
    if (graph.kind !== 'path' || data.kind !== 'path') throw new Error('expected paths');
    expect(join(graph.path, '..')).toBe(join(data.path, '..'));
    // Only the files this capability needs were fetched (understand-only graphs were not).
    expect(fixture.server.requestsFor('graphs/lm_head.fp32.onnx')).toHaveLength(0);
    expect(fixture.server.requestsFor('tables-512.safetensors')).toHaveLength(0);
  });

  it('a second load is a cache hit that makes no request at all', async () => {
    const first = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir });
    const paths = first.filesFor({ capabilities: ['edit'], dtype: 'fp32' });
    await first.resolve(paths);
    const requestsAfterFirst = fixture.server.requests.length;
    expect(requestsAfterFirst).toBe(paths.length + 1);

    const second = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir });
    const events: LoadProgressEvent[] = [];
    const files = await second.resolve(paths, { onProgress: (event) => events.push(event) });
    expect(fixture.server.requests.length).toBe(requestsAfterFirst);
    expectProgressInvariants(events, events[0].total);
    expect(new Set(events.map((event) => event.phase))).toEqual(new Set(['cache-read']));
    expect(files.paths.sort()).toEqual([...paths].sort());
    expect(await second.isAvailableOffline(paths)).toBe(true);
  });

  it('revalidate fetches only the manifest again', async () => {
    const first = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir });
    const paths = first.filesFor({ capabilities: ['understand'], dtype: 'fp32' });
    await first.resolve(paths);
    const before = fixture.server.requests.length;
    const second = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir, revalidate: true });
    await second.resolve(paths);
    expect(fixture.server.requests.slice(before).map((request) => request.path)).toEqual(['/model/unipic.json']);
  });

  it('without a verification record the cached file is hashed once, then trusted', async () => {
    const first = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir });
    await first.resolve(['graphs/llm.fp32.onnx.data']);
    const [modelFolder] = await readdir(fixture.cacheDir);
    const { rm } = await import('node:fs/promises');
    await rm(join(fixture.cacheDir, modelFolder, '.unipic', 'graphs', 'llm.fp32.onnx.data.verified.json'));

    const second = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir });
    const events: LoadProgressEvent[] = [];
    await second.resolve(['graphs/llm.fp32.onnx.data'], { onProgress: (event) => events.push(event) });
    // Hashing 300 kB in 4 MiB reads reports it in one step; what matters is no request and a new record.
    expect(events.every((event) => event.phase === 'cache-read')).toBe(true);
    expect(fixture.server.requests.filter((request) => request.path.endsWith('llm.fp32.onnx.data'))).toHaveLength(1);
    const record = JSON.parse(await readFile(join(fixture.cacheDir, modelFolder, '.unipic', 'graphs', 'llm.fp32.onnx.data.verified.json'), 'utf8'));
    expect(record.sha256).toBe(sha256Hex(fixture.model.files.get('graphs/llm.fp32.onnx.data')!));
  });

  it('a cached file altered on disk (record no longer matches) is detected and fetched again', async () => {
    const path = 'graphs/embed.fp32.onnx.data';
    const first = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir });
    const [resolved] = [(await first.resolve([path])).get(path)];
    if (resolved.kind !== 'path') throw new Error('expected a path');
    const { writeFile, utimes } = await import('node:fs/promises');
    const damaged = Buffer.from(fixture.model.files.get(path)!);
    damaged[0] ^= 1;
    await writeFile(resolved.path, damaged);
    await utimes(resolved.path, new Date(), new Date(Date.now() + 5_000));

    const second = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir });
    await second.resolve([path]);
    expect(fixture.server.requestsFor(path)).toHaveLength(2);
    expect(sha256Hex(await readFile(resolved.path))).toBe(sha256Hex(fixture.model.files.get(path)!));
  });

  it("verify: 'full' rehashes a cache hit and catches a flipped byte with unchanged size and mtime", async () => {
    const path = 'tokenizer.json';
    const first = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir });
    const resolved = (await first.resolve([path])).get(path);
    if (resolved.kind !== 'path') throw new Error('expected a path');
    const { stat, writeFile } = await import('node:fs/promises');
    const damaged = Buffer.from(fixture.model.files.get(path)!);
    damaged[10] ^= 1;
    await writeFile(resolved.path, damaged);
    // Same size, and a record that matches the new mtime: what silent disk corruption looks like.
    const [modelFolder] = await readdir(fixture.cacheDir);
    const recordPath = join(fixture.cacheDir, modelFolder, '.unipic', `${path}.verified.json`);
    const record = JSON.parse(await readFile(recordPath, 'utf8'));
    await writeFile(recordPath, JSON.stringify({ ...record, mtimeMs: (await stat(resolved.path)).mtimeMs }));

    // The fast check trusts the record (the documented trade-off)...
    const fast = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir });
    await fast.resolve([path]);
    expect(fixture.server.requestsFor(path)).toHaveLength(1);
    // ...the full check does not.
    const full = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir, verify: 'full' });
    await full.resolve([path]);
    expect(fixture.server.requestsFor(path)).toHaveLength(2);
    expect(sha256Hex(await readFile(resolved.path))).toBe(sha256Hex(fixture.model.files.get(path)!));
  });

  it('delete(path) evicts one file and clear() the whole model', async () => {
    const model = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir });
    await model.resolve(['tokenizer.json', 'tokenizer_config.json']);
    await model.cache!.delete('tokenizer.json');
    expect(await model.cache!.has(model.entry('tokenizer.json'))).toBe(false);
    expect(await model.cache!.has(model.entry('tokenizer_config.json'))).toBe(true);
    await model.resolve(['tokenizer.json']);
    expect(fixture.server.requestsFor('tokenizer.json')).toHaveLength(2);
    await model.cache!.clear();
    expect(await readdir(fixture.cacheDir)).toEqual([]);
  });

  it('caching off delivers verified bytes and writes nothing', async () => {
    const model = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir, cache: false });
    const files = await model.resolve(['graphs/llm.fp32.onnx.data']);
    const file = files.get('graphs/llm.fp32.onnx.data');
    expect(file.kind).toBe('bytes');
    if (file.kind === 'bytes') expect(sha256Hex(file.bytes)).toBe(sha256Hex(fixture.model.files.get('graphs/llm.fp32.onnx.data')!));
    expect(await readdir(fixture.cacheDir)).toEqual([]);
  });
});
