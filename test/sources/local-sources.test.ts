import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toGraphSource } from '../../src/core/sources/graph-source.js';
import { IntegrityError, ModelNotFoundError } from '../../src/errors/index.js';
import { openNodeModel } from '../../src/node/open-node-model.js';
import type { LoadProgressEvent } from '../../src/spec/progress.js';
import { expectProgressInvariants, FAST_RETRIES } from './support/fixture.js';
import { makeSyntheticModel, sha256Hex, writeModelFolder } from './support/synthetic-model.js';
import { serveModel } from './support/test-server.js';

const model = makeSyntheticModel({ largeBytes: 50_000 });

describe('local folder', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'unipic-folder-'));
    await writeModelFolder(model, directory);
  });
  afterEach(async () => rm(directory, { recursive: true, force: true }));

  it('delivers the files in place as paths, reporting cache-read progress', async () => {
    const opened = await openNodeModel(directory);
    const paths = opened.filesFor({ capabilities: ['edit'], dtype: 'fp32', sizes: [512] });
    const events: LoadProgressEvent[] = [];
    const files = await opened.resolve(paths, { onProgress: (event) => events.push(event) });
    for (const path of paths) expect(files.get(path)).toMatchObject({ kind: 'path', path: join(directory, path) });
    expectProgressInvariants(
      events,
      paths.reduce((sum, path) => sum + model.files.get(path)!.byteLength, 0),
    );
    expect(events.every((event) => event.phase === 'cache-read')).toBe(true);
    expect(toGraphSource('llm', opened.manifest.graphs.llm!.fp32!, files)).toEqual({
      name: 'llm',
      path: join(directory, 'graphs/llm.fp32.onnx'),
    });
  });

  it('accepts a file: URL', async () => {
    const { pathToFileURL } = await import('node:url');
    const opened = await openNodeModel(pathToFileURL(directory));
    expect(opened.manifest.name).toBe('synthetic');
  });

  it('a missing folder or file is ModelNotFoundError, a wrong size IntegrityError', async () => {
    await expect(openNodeModel(join(directory, 'nope'))).rejects.toBeInstanceOf(ModelNotFoundError);
    await rm(join(directory, 'tokenizer.json'));
    const opened = await openNodeModel(directory);
    await expect(opened.resolve(['tokenizer.json'])).rejects.toBeInstanceOf(ModelNotFoundError);
    await writeFile(join(directory, 'tokenizer_config.json'), 'short');
    await expect(opened.resolve(['tokenizer_config.json'])).rejects.toBeInstanceOf(IntegrityError);
  });

  it("verify: 'full' hashes the files and catches a same-size corruption that 'fast' accepts", async () => {
    const path = 'graphs/llm.fp32.onnx.data';
    const damaged = Buffer.from(model.files.get(path)!);
    damaged[123] ^= 0x40;
    await writeFile(join(directory, path), damaged);
    await expect((await openNodeModel(directory)).resolve([path])).resolves.toBeDefined();
    await expect((await openNodeModel(directory, { verify: 'full' })).resolve([path])).rejects.toBeInstanceOf(IntegrityError);
  });
});

describe('file map', () => {
  it('delivers supplied bytes as they are (no copy) and fetches URL entries', async () => {
    const { server, baseUrl } = await serveModel(model.files, model.manifestText);
    try {
      const map: Record<string, Uint8Array | Blob | string> = { 'unipic.json': new TextEncoder().encode(model.manifestText) };
      for (const [path, body] of model.files) map[path] = new Uint8Array(body);
      map['tables-256.safetensors'] = new Blob([new Uint8Array(model.files.get('tables-256.safetensors')!)]);
      map['graphs/llm.fp32.onnx.data'] = `${baseUrl}graphs/llm.fp32.onnx.data`;
      const opened = await openNodeModel(map, FAST_RETRIES);
      const paths = ['tokenizer.json', 'tables-256.safetensors', 'graphs/llm.fp32.onnx', 'graphs/llm.fp32.onnx.data'];
      const events: LoadProgressEvent[] = [];
      const files = await opened.resolve(paths, { onProgress: (event) => events.push(event) });
      const tokenizer = files.get('tokenizer.json');
      expect(tokenizer.kind === 'bytes' && tokenizer.bytes).toBe(map['tokenizer.json']);
      const tables = files.get('tables-256.safetensors');
      expect(tables.kind === 'bytes' && sha256Hex(tables.bytes)).toBe(sha256Hex(model.files.get('tables-256.safetensors')!));
      const data = files.get('graphs/llm.fp32.onnx.data');
      expect(data.kind === 'bytes' && sha256Hex(data.bytes)).toBe(sha256Hex(model.files.get('graphs/llm.fp32.onnx.data')!));
      expect(server.requests.map((request) => request.path)).toEqual(['/model/graphs/llm.fp32.onnx.data']);
      expect(events.find((event) => event.file === 'graphs/llm.fp32.onnx.data')?.phase).toBe('download');
      expectProgressInvariants(
        events,
        paths.reduce((sum, path) => sum + model.files.get(path)!.byteLength, 0),
      );
      // A graph in memory carries its external data under the name the graph records.
      const graph = toGraphSource('llm', opened.manifest.graphs.llm!.fp32!, files);
      expect(graph.externalData?.[0].path).toBe('llm.fp32.onnx.data');

      const offline = await openNodeModel(map, { offline: true });
      await expect(offline.resolve(['graphs/llm.fp32.onnx.data'])).rejects.toBeInstanceOf(ModelNotFoundError);
      await expect(offline.resolve(['tokenizer.json'])).resolves.toBeDefined();
    } finally {
      await server.close();
    }
  });

  it('a missing entry is ModelNotFoundError; bytes of the wrong size are IntegrityError', async () => {
    const map = { 'unipic.json': new TextEncoder().encode(model.manifestText), 'tokenizer.json': new Uint8Array(3) };
    const opened = await openNodeModel(map);
    await expect(opened.resolve(['tokenizer_config.json'])).rejects.toBeInstanceOf(ModelNotFoundError);
    await expect(opened.resolve(['tokenizer.json'])).rejects.toBeInstanceOf(IntegrityError);
  });
});

describe('fetch function', () => {
  it('is retried like HTTP, kept in memory without a cacheKey and on disk with one', async () => {
    let calls = 0;
    const fetchFile = async (path: string, init: RequestInit) => {
      calls += 1;
      if (calls === 2) return new Response('busy', { status: 503 });
      if (path === 'unipic.json') return new Response(model.manifestText);
      const body = model.files.get(path);
      if (!body) return new Response('', { status: 404 });
      const range = /^bytes=(\d+)-$/.exec(new Headers(init.headers).get('range') ?? '');
      return range
        ? new Response(new Uint8Array(body.subarray(Number(range[1]))), {
            status: 206,
            headers: { 'content-range': `bytes ${range[1]}-${body.length - 1}/${body.length}` },
          })
        : new Response(new Uint8Array(body));
    };
    const inMemory = await openNodeModel(fetchFile, FAST_RETRIES);
    const file = (await inMemory.resolve(['tokenizer.json'])).get('tokenizer.json');
    expect(file.kind).toBe('bytes');
    expect(calls).toBe(3); // manifest, one 503, the retry

    const cacheDir = await mkdtemp(join(tmpdir(), 'unipic-fetch-'));
    try {
      const cached = await openNodeModel(fetchFile, { ...FAST_RETRIES, cacheKey: 'my-model@1', cacheDir });
      const onDisk = (await cached.resolve(['tokenizer.json'])).get('tokenizer.json');
      expect(onDisk.kind).toBe('path');
      const before = calls;
      const again = await openNodeModel(fetchFile, { cacheKey: 'my-model@1', cacheDir });
      await again.resolve(['tokenizer.json']);
      expect(calls).toBe(before);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});
