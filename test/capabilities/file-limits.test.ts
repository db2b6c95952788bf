import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionsError, ResourceLimitError, UniPicError, UnsupportedDeviceError, type FileLimitDetails } from '../../src/errors/index.js';
import { CAPABILITY_GRAPHS } from '../../src/families/unipic1/manifest.js';
import { UniPic } from '../../src/index.node.js';
import type { Dtype, GraphName, Manifest } from '../../src/spec/manifest.js';
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

/** Bytes of the files a task's graphs load at one dtype, read from a converted folder's manifest. */
async function taskBytes(folder: string, task: keyof typeof CAPABILITY_GRAPHS, dtype: Dtype): Promise<number> {
  const manifest = JSON.parse(await readFile(join(folder, 'unipic.json'), 'utf8')) as Manifest;
  const sizes = new Map(manifest.files.map((file) => [file.path, file.size]));
  const files = new Set(
    CAPABILITY_GRAPHS[task].flatMap((graph) => {
      const v = manifest.graphs[graph as GraphName]![dtype]!;
      return [v.file, ...v.externalData];
    }),
  );
  return [...files].reduce((sum, file) => sum + sizes.get(file)!, 0);
}

describe('graphs one call holds together, past the memory all sessions share (wasm: 4 GiB)', () => {
  // Full-size fp16: every graph passes maxGraphBytes (llm 2.4 GiB), but generate keeps 4.8 GiB of
  // weights alive at once. Faked on the tiny model by a limit between its tasks' totals.
  it('a task over maxResidentBytes is refused before any session, naming the task, its graphs and what fits', async () => {
    const folder = await tinyModelDir(['fp32', 'q4']);
    const tasks = ['generate', 'edit', 'understand'] as const;
    const bytes = await Promise.all(tasks.map((task) => taskBytes(folder, task, 'fp32')));
    const bySize = tasks.map((task, i) => ({ task, bytes: bytes[i]! })).sort((a, b) => a.bytes - b.bytes);
    // Only the smallest task fits under the limit.
    const limit = Math.floor((bySize[0]!.bytes + bySize[1]!.bytes) / 2);
    const q4Fits = Math.max(...(await Promise.all(tasks.map((task) => taskBytes(folder, task, 'q4'))))) <= limit;
    const backend = new MockBackend({ devices: ['wasm'], limits: { maxGraphBytes: 2 ** 32, maxResidentBytes: limit } });
    const error = await UniPic.load(folder, { backend, dtype: 'fp32' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceLimitError);
    const details = (error as ResourceLimitError).details as FileLimitDetails;
    expect(details).toMatchObject({ limit: 'maxResidentBytes', limitBytes: limit, dtype: 'fp32', device: 'wasm' });
    expect(details.task).not.toBe(bySize[0]!.task);
    expect(details.bytes).toBe(bySize.find((entry) => entry.task === details.task)!.bytes);
    expect(details.graphs).toEqual([...CAPABILITY_GRAPHS[details.task as (typeof tasks)[number]]]);
    // The ways out this folder offers: q4 where its graphs fit, and the task that fits alone.
    const message = (error as Error).message;
    expect(message).toContain(`but wasm holds at most ${(limit / 1024 ** 3).toFixed(2)} GiB for all its sessions; load with `);
    expect(message).toContain(`capabilities: ['${bySize[0]!.task}']`);
    expect(message.includes("dtype 'q4'")).toBe(q4Fits);
    expect(backend.sessionsCreated).toHaveLength(0);
    expect(UniPicError.fromJSON(JSON.parse(JSON.stringify(error))).details).toEqual(details);

    // Following the message loads.
    const alone = await UniPic.load(folder, { backend, dtype: 'fp32', capabilities: [bySize[0]!.task] });
    await alone.dispose();
  }, 120_000);

  it('without the limit (WebGPU, Node) the same folder loads', async () => {
    const backend = new MockBackend({ devices: ['webgpu'], limits: { maxFileBytes: BROWSER_LIMIT } });
    const model = await UniPic.load(await tinyModelDir(['fp32', 'q4']), { backend, dtype: 'fp32' });
    await model.dispose();
  }, 120_000);
});

describe('half-precision graphs on WebGPU without shader-f16', () => {
  // ONNX Runtime creates the session and fails at the first kernel ("requires f16 but the device
  // does not support it"), after the download: refused at load instead.
  it('an explicit q4f16 is refused with InvalidOptionsError naming the graphs (the float32 VAE files excepted)', async () => {
    const backend = new MockBackend({ devices: ['webgpu'], fp16: false });
    const error = await UniPic.load(await tinyModelDir(['fp32', 'q4f16']), { backend, dtype: 'q4f16' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    const issues = (error as InvalidOptionsError).issues.map((issue) => issue.path);
    expect(issues).toContain('dtype.llm');
    expect(issues).not.toContain('dtype.vae_decoder');
    expect((error as Error).message).toMatch(/no shader-f16.*llm \(q4f16\).*pass dtype 'q4' or 'fp32'/);
    expect(backend.sessionsCreated).toHaveLength(0);
  }, 120_000);

  it('auto on a folder with only half-precision graphs is refused with UnsupportedDeviceError; with shader-f16 it loads', async () => {
    const folder = await tinyModelDir(['q4f16']);
    const error = await UniPic.load(folder, { backend: new MockBackend({ devices: ['webgpu'], fp16: false }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedDeviceError);
    expect((error as Error).message).toMatch(/only half-precision graphs for .*llm \(q4f16\).*device 'wasm'/);
    const model = await UniPic.load(folder, { backend: new MockBackend({ devices: ['webgpu'], fp16: true }) });
    expect(model.dtypes.llm).toBe('q4f16');
    await model.dispose();
  }, 120_000);

  it('wasm (no fast fp16, but it runs) still honours an explicit q4f16 with a warning', async () => {
    const model = await UniPic.load(await tinyModelDir(['fp32', 'q4f16']), { backend: new MockBackend({ devices: ['wasm'], fp16: false }), dtype: 'q4f16' });
    expect(model.loadWarnings.map((w) => w.code)).toEqual(['dtype-fallback']);
    await model.dispose();
  }, 120_000);
});
