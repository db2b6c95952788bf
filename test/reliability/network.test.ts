import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AbortError, UniPic, UniPicError } from '../../src/index.node.js';
import type { UniPic1Manifest as Manifest } from '../../src/families/unipic1/manifest.js';
import { TestServer } from '../sources/support/test-server.js';
import { InstrumentedBackend } from './support/instrumented-backend.js';
import { NodeOrtBackend } from '../../adapters/node-ort/index.js';
import { QUICK, rejection, tinyDir } from './support/tiny-fixture.js';

const FAST_RETRIES = { retryDelayMs: 1, maxRetryDelayMs: 5 } as const;
const BIG = 'embed.fp32.onnx.data';

/** Every file under `folder`, relative, recursively. */
async function listFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(folder, join(entry.parentPath, entry.name)));
}

/** Serves the tiny model over real HTTP; each test gets a fresh server and an empty cache. */
async function serveTiny(): Promise<{ server: TestServer; url: string; manifest: Manifest }> {
  const folder = await tinyDir();
  const server = new TestServer();
  for (const name of await readdir(folder)) server.setFile(name, await readFile(join(folder, name)));
  const url = await server.start();
  const manifest = JSON.parse(await readFile(join(folder, 'unipic.json'), 'utf8')) as Manifest;
  return { server, url, manifest };
}

/** The reference pixels: the same call on the model loaded from its folder. */
async function referencePixels(): Promise<string> {
  const model = await UniPic.load(await tinyDir(), { dtype: 'fp32', device: 'cpu', threads: 1 });
  try {
    return Buffer.from((await model.generate({ prompt: 'a harbour', ...QUICK }).result).images[0].data).toString('base64');
  } finally {
    await model.dispose();
  }
}

async function pixelsOf(model: UniPic): Promise<string> {
  return Buffer.from((await model.generate({ prompt: 'a harbour', ...QUICK }).result).images[0].data).toString('base64');
}

/** Every cached file is complete and matches the manifest's sha256; no partial is at a final path. */
async function expectVerifiedCache(cacheDir: string, manifest: Manifest): Promise<void> {
  const [modelFolder] = await readdir(cacheDir);
  const files = await listFiles(join(cacheDir, modelFolder));
  for (const entry of manifest.files) {
    if (!files.includes(entry.path)) continue;
    const bytes = await readFile(join(cacheDir, modelFolder, entry.path));
    expect(bytes.byteLength, entry.path).toBe(entry.size);
    expect(createHash('sha256').update(bytes).digest('hex'), entry.path).toBe(entry.sha256);
  }
}

describe('loading the tiny model over a faulty network', () => {
  let served: Awaited<ReturnType<typeof serveTiny>>;
  let cacheDir: string;
  let reference: string;
  beforeAll(async () => {
    reference = await referencePixels();
  });
  beforeEach(async () => {
    served = await serveTiny();
    cacheDir = await mkdtemp(join(tmpdir(), 'unipic-reliability-cache-'));
  });
  afterEach(async () => {
    await served.server.close();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('cuts, 500s and a stall are retried or resumed; the model then generates the reference image', async () => {
    const { server, url, manifest } = served;
    server.chunkBytes = 64 * 1024;
    server.addFault(BIG, { kind: 'close-after', bytes: 1_500_000, times: 1 });
    server.addFault('llm.fp32.onnx', { kind: 'status', status: 500, times: 2 });
    server.addFault('vae_decoder.fp32.onnx.data', { kind: 'stall-after', bytes: 100_000, times: 1 });
    const model = await UniPic.load(url, { dtype: 'fp32', device: 'cpu', threads: 1, cacheDir, timeoutMs: 1000, ...FAST_RETRIES });
    try {
      expect(server.requestsFor(BIG).at(-1)?.range).toMatch(/^bytes=\d+-$/);
      expect(server.requestsFor('llm.fp32.onnx').map((request) => request.status)).toEqual([500, 500, 200]);
      // Same pixels as from the folder (tolerance 0): no byte of any weight was damaged on the way.
      expect(await pixelsOf(model)).toBe(reference);
    } finally {
      await model.dispose();
    }
    await expectVerifiedCache(cacheDir, manifest);
    expect((await listFiles(cacheDir)).filter((file) => file.endsWith('.partial'))).toEqual([]);
  });

  it('a server that dies mid-file fails the load with a typed error, keeps no partial at a final path, and a later load resumes', async () => {
    const { server, url, manifest } = served;
    server.chunkBytes = 100_000;
    server.addFault(BIG, { kind: 'close-after', bytes: 2_000_000, times: 1 });
    const backend = new InstrumentedBackend(new NodeOrtBackend());
    // No retries: the cut is final for this load.
    const failure = await rejection(UniPic.load(url, { dtype: 'fp32', device: 'cpu', backend, cacheDir, retries: 0, ...FAST_RETRIES }));
    expect(UniPicError.isInstance(failure)).toBe(true);
    expect(failure.message).toContain(BIG);
    expect(backend.sessionsCreated).toBe(0);
    const [modelFolder] = await readdir(cacheDir);
    expect(await listFiles(join(cacheDir, modelFolder))).not.toContain(BIG);
    await expectVerifiedCache(cacheDir, manifest);
    // What arrived before the cut is kept aside (bytes in flight when the socket died are lost).
    const partial = (await stat(join(cacheDir, modelFolder, '.unipic', `${BIG}.partial`))).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThanOrEqual(2_000_000);

    // The next load asks only for the rest of the file.
    const model = await UniPic.load(url, { dtype: 'fp32', device: 'cpu', threads: 1, cacheDir, ...FAST_RETRIES });
    try {
      expect(server.requestsFor(BIG).at(-1)).toMatchObject({ range: `bytes=${partial}-`, status: 206 });
      expect(await pixelsOf(model)).toBe(reference);
    } finally {
      await model.dispose();
    }
    await expectVerifiedCache(cacheDir, manifest);
  });

  it('an abort during the download rejects with AbortError before any session exists', async () => {
    const { server, url } = served;
    server.chunkDelayMs = 2;
    const controller = new AbortController();
    const backend = new InstrumentedBackend(new NodeOrtBackend());
    const failure = await rejection(
      UniPic.load(url, {
        dtype: 'fp32',
        device: 'cpu',
        backend,
        cacheDir,
        signal: controller.signal,
        onProgress: (event) => {
          if (event.phase === 'download' && event.loaded > 1_000_000) controller.abort(new Error('user cancelled'));
        },
      }),
    );
    expect(failure).toBeInstanceOf(AbortError);
    expect(failure.message).toBe('user cancelled');
    expect(backend.sessionsCreated).toBe(0);
    const [modelFolder] = await readdir(cacheDir);
    expect((await listFiles(join(cacheDir, modelFolder))).filter((file) => file.endsWith('.data'))).toEqual([]);
  });
});

/**
 * A real full disk and a real read-only file system, as tmpfs mounts. Needs mount rights
 * (root with CAP_SYS_ADMIN); elsewhere the errno mapping test in test/sources stands in.
 */
function canMount(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = join(tmpdir(), `unipic-mount-probe-${process.pid}`);
  try {
    execFileSync('mkdir', ['-p', probe]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    execFileSync('rm', ['-rf', probe]);
  }
}

describe.skipIf(!canMount())('a cache on a full or read-only file system', () => {
  let served: Awaited<ReturnType<typeof serveTiny>>;
  let mountPoint: string;
  beforeAll(async () => {
    served = await serveTiny();
  });
  afterAll(async () => served.server.close());
  beforeEach(async () => {
    mountPoint = await mkdtemp(join(tmpdir(), 'unipic-reliability-mount-'));
  });
  afterEach(async () => {
    try {
      execFileSync('umount', [mountPoint], { stdio: 'ignore' });
    } catch {
      // not mounted (the test failed before mounting)
    }
    await rm(mountPoint, { recursive: true, force: true });
  });

  it('a full disk fails the load with cache-full, leaves no file at a final path, and the model loads elsewhere', async () => {
    // 2 MB: the manifest and small files fit, the 4.8 MB embedding table does not.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint]);
    const backend = new InstrumentedBackend(new NodeOrtBackend());
    const failure = await rejection(UniPic.load(served.url, { dtype: 'fp32', device: 'cpu', backend, cacheDir: mountPoint, ...FAST_RETRIES }));
    expect(failure).toMatchObject({ code: 'INVALID_MODEL', details: { reason: 'cache-full' } });
    expect(backend.sessionsCreated).toBe(0);
    const [modelFolder] = await readdir(mountPoint);
    const kept = await listFiles(join(mountPoint, modelFolder));
    expect(kept).not.toContain(BIG);
    await expectVerifiedCache(mountPoint, served.manifest);

    const elsewhere = await mkdtemp(join(tmpdir(), 'unipic-reliability-cache-'));
    try {
      const model = await UniPic.load(served.url, { dtype: 'fp32', device: 'cpu', threads: 1, cacheDir: elsewhere });
      expect((await model.generate({ prompt: 'x', ...QUICK }).result).images).toHaveLength(1);
      await model.dispose();
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  // Node's recursive mkdir reports a read-only file system as ENOENT; cacheWrite maps it.
  it('a read-only file system fails the load with cache-not-writable, even for root', async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', mountPoint]);
    const failure = await rejection(UniPic.load(served.url, { dtype: 'fp32', device: 'cpu', cacheDir: join(mountPoint, 'cache') }));
    expect(failure).toMatchObject({ code: 'INVALID_MODEL', details: { reason: 'cache-not-writable' } });
  });

  it('a cache with no room even for the manifest refuses with cache-full', async () => {
    // One page: the folders fit, the 6 kB manifest does not.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', mountPoint]);
    const failure = await rejection(UniPic.load(served.url, { dtype: 'fp32', device: 'cpu', cacheDir: mountPoint }));
    expect(failure).toMatchObject({ code: 'INVALID_MODEL', details: { reason: 'cache-full' } });
  });
});
