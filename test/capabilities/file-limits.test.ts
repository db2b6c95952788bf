import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResourceLimitError, UniPicError, type FileLimitDetails } from '../../src/errors/index.js';
import { UniPic } from '../../src/index.node.js';
import type { Manifest } from '../../src/spec/manifest.js';
import { MockBackend } from '../../src/testing/index.js';
import { tinyModelDir } from '../support/tiny-model.js';

// A crafted manifest (only unipic.json on disk) whose llm external data is 3 GiB: on a backend
// limited to browser-sized files, load must refuse it with a typed error before touching any file.
const BROWSER_LIMIT = 2 ** 31 - 1;
let dir: string;
let oversized: string;

beforeAll(async () => {
  const manifest = JSON.parse(await readFile(join(await tinyModelDir(['fp32']), 'unipic.json'), 'utf8')) as Manifest;
  const variant = manifest.graphs.llm!.fp32!;
  oversized = variant.externalData[0] ?? variant.file;
  const crafted = { ...manifest, files: manifest.files.map((file) => (file.path === oversized ? { ...file, size: 3 * 1024 ** 3 } : file)) };
  dir = await mkdtemp(join(tmpdir(), 'unipic-limits-'));
  await writeFile(join(dir, 'unipic.json'), JSON.stringify(crafted));
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('files larger than the runtime can load', () => {
  it('UniPic.load refuses with ResourceLimitError naming the file, its size and the limit, before any session', async () => {
    const backend = new MockBackend({ devices: ['wasm'], limits: { maxFileBytes: BROWSER_LIMIT } });
    const error = await UniPic.load(dir, { backend, dtype: 'fp32', capabilities: ['generate'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceLimitError);
    const limitError = error as ResourceLimitError;
    expect(limitError.code).toBe('RESOURCE_LIMIT');
    expect(limitError.details).toEqual({
      limit: 'maxFileBytes',
      limitBytes: BROWSER_LIMIT,
      file: oversized,
      bytes: 3 * 1024 ** 3,
      graph: 'llm',
      dtype: 'fp32',
      device: 'wasm',
    });
    expect(limitError.message).toMatch(/3\.00 GiB.*at most 2\.00 GiB.*reconvert/);
    expect(backend.sessionsCreated).toHaveLength(0);
    // Serialisable across a worker boundary like every UniPicError.
    expect(UniPicError.fromJSON(JSON.parse(JSON.stringify(limitError)))).toBeInstanceOf(ResourceLimitError);
  });

  it('a graph whose files together pass the wasm address space (each file under 2 GiB) is refused as maxGraphBytes', async () => {
    // Full-size llm.fp32 is 5.2 GB in three files under 2 GiB: each file passes, the graph cannot fit.
    const backend = new MockBackend({ devices: ['wasm'], limits: { maxFileBytes: 4 * 1024 ** 3, maxGraphBytes: 2 * 1024 ** 3 } });
    const error = await UniPic.load(dir, { backend, dtype: 'fp32', capabilities: ['generate'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceLimitError);
    const details = (error as ResourceLimitError).details as FileLimitDetails;
    expect(details).toMatchObject({ limit: 'maxGraphBytes', limitBytes: 2 * 1024 ** 3, graph: 'llm', dtype: 'fp32', device: 'wasm' });
    expect(details.bytes).toBeGreaterThanOrEqual(3 * 1024 ** 3);
    expect((error as Error).message).toMatch(/llm \(fp32\).*at most 2\.00 GiB.*q4/);
    expect(backend.sessionsCreated).toHaveLength(0);
  });

  it('without a file limit (node-ort) the same manifest gets past the check (and fails on the missing files instead)', async () => {
    const backend = new MockBackend({ devices: ['cpu'] });
    const error = await UniPic.load(dir, { backend, dtype: 'fp32', capabilities: ['generate'] }).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ResourceLimitError);
    expect((error as UniPicError).code).toBe('MODEL_NOT_FOUND');
  });
});
