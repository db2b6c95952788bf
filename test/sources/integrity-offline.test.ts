import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openNodeModel } from '../../src/node/open-node-model.js';
import { IntegrityError, ModelNotFoundError } from '../../src/errors/index.js';
import { FAST_RETRIES, startFixture, type Fixture } from './support/fixture.js';

async function listFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name).slice(directory.length + 1));
}

describe('integrity', () => {
  let fixture: Fixture;
  beforeEach(async () => {
    fixture = await startFixture();
  });
  afterEach(async () => fixture.dispose());

  it('wrong bytes of the right size fail with IntegrityError and leave no file behind', async () => {
    const path = 'graphs/llm.fp32.onnx.data';
    fixture.server.addFault(path, { kind: 'corrupt' });
    const model = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir, ...FAST_RETRIES });
    const failure = await model.resolve([path]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(IntegrityError);
    expect((failure as IntegrityError).code).toBe('INTEGRITY');
    expect((failure as Error).message).toMatch(/sha256/);
    // No final file, no partial, no resume info: only the manifest is kept.
    expect(await listFiles(fixture.cacheDir)).toEqual([expect.stringMatching(/^[0-9a-f]{16}\/unipic\.json$/)]);
    // An integrity failure is final: it is not retried.
    expect(fixture.server.requestsFor(path)).toHaveLength(1);
  });

  it('a server announcing a size other than the manifest fails before writing anything', async () => {
    const path = 'tokenizer.json';
    fixture.server.setFile(path, Buffer.alloc(fixture.model.files.get(path)!.byteLength + 7));
    const model = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir, ...FAST_RETRIES });
    await expect(model.resolve([path])).rejects.toThrow(/announces \d+ bytes/);
    expect((await listFiles(fixture.cacheDir)).filter((file) => file.includes('tokenizer'))).toEqual([]);
  });

  it('a file on disk that fails verification is never delivered (caching off: bytes)', async () => {
    const path = 'tables-256.safetensors';
    fixture.server.addFault(path, { kind: 'corrupt' });
    const model = await openNodeModel(fixture.baseUrl, { cache: false, ...FAST_RETRIES });
    await expect(model.resolve([path])).rejects.toBeInstanceOf(IntegrityError);
  });
});

describe('offline mode', () => {
  let fixture: Fixture;
  beforeEach(async () => {
    fixture = await startFixture();
  });
  afterEach(async () => fixture.dispose());

  it('with an empty cache fails with ModelNotFoundError without any request', async () => {
    const failure = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir, offline: true }).catch((error) => error);
    expect(failure).toBeInstanceOf(ModelNotFoundError);
    expect((failure as ModelNotFoundError).details).toMatchObject({ reason: 'offline' });
    expect(fixture.server.requests).toHaveLength(0);
  });

  it('serves a cached model with no request, and refuses files that were never cached', async () => {
    const online = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir });
    const understand = online.filesFor({ capabilities: ['understand'], dtype: 'fp32', sizes: [256] });
    await online.resolve(understand);
    const requests = fixture.server.requests.length;
    await fixture.server.close(); // the network is gone: any attempt would fail loudly

    const offline = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir, offline: true });
    const files = await offline.resolve(understand);
    expect(files.paths.length).toBe(understand.length);
    expect(fixture.server.requests.length).toBe(requests);

    const generate = offline.filesFor({ capabilities: ['generate'], dtype: 'fp32', sizes: [256] });
    expect(await offline.isAvailableOffline(generate)).toBe(false);
    const failure = await offline.resolve(generate).catch((error) => error);
    expect(failure).toBeInstanceOf(ModelNotFoundError);
    expect((failure as Error).message).toMatch(/offline/);
  });

  it('offline with revalidate still uses the cached manifest', async () => {
    const online = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir });
    await online.resolve(['tokenizer.json']);
    const requests = fixture.server.requests.length;
    const offline = await openNodeModel(fixture.baseUrl, { cacheDir: fixture.cacheDir, offline: true, revalidate: true });
    await offline.resolve(['tokenizer.json']);
    expect(fixture.server.requests.length).toBe(requests);
  });
});

describe('cache directory problems', () => {
  let fixture: Fixture;
  beforeEach(async () => {
    fixture = await startFixture();
  });
  afterEach(async () => fixture.dispose());

  it('a cacheDir that cannot hold folders fails with a typed error naming the cache', async () => {
    const { writeFile } = await import('node:fs/promises');
    const blocked = join(fixture.cacheDir, 'not-a-folder');
    await writeFile(blocked, 'x');
    const failure = await openNodeModel(fixture.baseUrl, { cacheDir: blocked }).catch((error) => error);
    expect(failure).toMatchObject({ code: 'INVALID_MODEL', details: { reason: 'cache-not-writable' } });
    expect((failure as Error).message).toContain(blocked);
  });

  it.skipIf(process.getuid?.() === 0)('a read-only cacheDir fails with a typed error', async () => {
    const { chmod, mkdir } = await import('node:fs/promises');
    const readOnly = join(fixture.cacheDir, 'read-only');
    await mkdir(readOnly);
    await chmod(readOnly, 0o500);
    const failure = await openNodeModel(fixture.baseUrl, { cacheDir: readOnly }).catch((error) => error);
    expect(failure).toMatchObject({ code: 'INVALID_MODEL', details: { reason: 'cache-not-writable' } });
  });

  it('maps a full disk and a read-only file system to typed errors', async () => {
    const { toCacheError } = await import('../../src/node/cache-fs-error.js');
    const errno = (code: string) => Object.assign(new Error(code), { code });
    expect(toCacheError(errno('ENOSPC'), '/c')).toMatchObject({ code: 'INVALID_MODEL', details: { reason: 'cache-full' } });
    expect(toCacheError(errno('EDQUOT'), '/c')).toMatchObject({ details: { reason: 'cache-full' } });
    expect(toCacheError(errno('EROFS'), '/c')).toMatchObject({ details: { reason: 'cache-not-writable' } });
    expect(toCacheError(errno('EACCES'), '/c')).toMatchObject({ details: { reason: 'cache-not-writable' } });
    const other = errno('EIO');
    expect(toCacheError(other, '/c')).toBe(other);
  });
});
