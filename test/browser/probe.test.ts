import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import type { BrowserCapabilities } from '../../src/browser/probe-browser.js';
import { bundlePage, pageHtml } from './support/bundle-page.js';
import { CHROMIUM_ARGS, launchChromium, type BrowserSession } from './support/chromium.js';
import { startStaticServer, type StaticServer } from './support/static-server.js';

const codes = (capabilities: BrowserCapabilities) => capabilities.warnings.map((warning) => warning.code);

describe('browser capability probe in Chromium', () => {
  let isolated: StaticServer;
  let plain: StaticServer;
  let browser: BrowserSession;

  beforeAll(async () => {
    const files = {
      '/index.html': pageHtml('/page.js'),
      '/page.js': await bundlePage(fileURLToPath(new URL('./pages/probe-page.ts', import.meta.url))),
      '/probe-worker.js': await bundlePage(fileURLToPath(new URL('./pages/probe-worker.ts', import.meta.url))),
    };
    [isolated, plain] = await Promise.all([startStaticServer({ files }), startStaticServer({ files, isolated: false })]);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await isolated?.close();
    await plain?.close();
  });

  async function probe(server: StaticServer, options: object = {}, inWorker = false, session = browser): Promise<BrowserCapabilities> {
    const page = await session.newPage();
    try {
      await page.goto(server.url('/index.html'));
      await page.waitForFunction(() => (globalThis as { pageReady?: boolean }).pageReady === true);
      return await page.evaluate(([name, values]) => (globalThis as unknown as Record<string, (o: object) => Promise<BrowserCapabilities>>)[name](values), [
        inWorker ? 'probeInWorker' : 'probeBrowser',
        options,
      ] as const);
    } finally {
      await page.close();
    }
  }

  it('reports SwiftShader WebGPU as a fallback adapter without shader-f16, on an isolated page', async () => {
    const capabilities = await probe(isolated);
    expect(capabilities.webgpu.available).toBe(true);
    expect(capabilities.webgpu.fallbackAdapter).toBe(true);
    expect(capabilities.webgpu.shaderF16).toBe(false);
    expect(capabilities.webgpu.maxBufferSize).toBeGreaterThan(0);
    expect(capabilities.crossOriginIsolated).toBe(true);
    expect(capabilities.wasmSimd).toBe(true);
    expect(capabilities.cacheApi).toBe(true);
    expect(capabilities.storage.quota).toBeGreaterThan(0);
    expect(codes(capabilities)).toEqual(['webgpu-fallback-adapter', 'webgpu-no-shader-f16']);
  });

  it('warns when the largest file exceeds the buffer limit or the model exceeds the quota left', async () => {
    const first = await probe(isolated);
    const limit = Math.min(first.webgpu.maxBufferSize ?? Infinity, first.webgpu.maxStorageBufferBindingSize ?? Infinity);
    const fits = await probe(isolated, { largestFileBytes: limit, downloadBytes: 1024 });
    expect(codes(fits)).not.toContain('webgpu-small-buffers');
    expect(codes(fits)).not.toContain('low-storage');
    const tooBig = await probe(isolated, { largestFileBytes: limit + 1, downloadBytes: 2 ** 60 });
    expect(codes(tooBig)).toContain('webgpu-small-buffers');
    expect(codes(tooBig)).toContain('low-storage');
  });

  it('warns that wasm runs on one thread without COOP/COEP', async () => {
    const capabilities = await probe(plain);
    expect(capabilities.crossOriginIsolated).toBe(false);
    expect(capabilities.wasmThreads).toBe(1);
    expect(codes(capabilities)).toContain('not-cross-origin-isolated');
  });

  it('probes the same WebGPU adapter from a worker', async () => {
    const page = await probe(isolated);
    const worker = await probe(isolated, {}, true);
    expect(worker.webgpu).toEqual(page.webgpu);
    expect(worker.crossOriginIsolated).toBe(true);
  });

  it('reports WebGPU unavailable, with the reason, when Chromium runs without it', async () => {
    const noWebgpu = await launchChromium({ args: CHROMIUM_ARGS.filter((arg) => arg !== '--enable-unsafe-webgpu') });
    try {
      const capabilities = await probe(isolated, {}, false, noWebgpu);
      expect(capabilities.webgpu.available).toBe(false);
      expect(capabilities.webgpu.reason).toMatch(/requestAdapter|navigator\.gpu/);
      expect(codes(capabilities)[0]).toBe('webgpu-unavailable');
    } finally {
      await noWebgpu.close();
    }
  });
});
