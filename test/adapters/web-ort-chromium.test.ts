import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundlePage, ORT_WEB_DIST, pageHtml } from '../browser/support/bundle-page.js';
import { launchChromium, type BrowserSession } from '../browser/support/chromium.js';
import { startStaticServer, type StaticServer } from '../browser/support/static-server.js';
import { reportWebgpu, webgpuUnavailable } from '../browser/support/webgpu-status.js';
import type { ScenarioResult as Scenario } from './browser/web-ort-contract-page.js';
import { contractExpected, contractFeeds, writeContractFixture, type ContractFixture } from './support/contract-fixture.js';

/**
 * The web-ort adapter in a real browser (Debian Chromium, SwiftShader WebGPU): what Node cannot
 * show — WebGPU, IO binding with `keepOnDevice`, models and external data fetched by URL.
 */
describe('web-ort in Chromium', () => {
  let fixture: ContractFixture;
  let server: StaticServer;
  let browser: BrowserSession;

  beforeAll(async () => {
    fixture = writeContractFixture();
    const script = await bundlePage(fileURLToPath(new URL('./browser/web-ort-contract-page.ts', import.meta.url)));
    server = await startStaticServer({
      folders: { '/ort/': ORT_WEB_DIST },
      files: {
        '/index.html': pageHtml('/page.js'),
        '/page.js': script,
        '/graphs/contract.onnx': fixture.graphBytes,
        '/graphs/contract.onnx.data': fixture.dataBytes,
      },
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    fixture?.remove();
  });

  for (const device of ['wasm', 'webgpu'] as const) {
    it(`passes the contract scenario on ${device}`, async (context) => {
      const page = await browser.newPage();
      await page.goto(server.url('/index.html'));
      await page.waitForFunction(() => (globalThis as { pageReady?: boolean }).pageReady === true);
      if (device === 'webgpu') {
        const reason = await webgpuUnavailable(page);
        reportWebgpu('web-ort-chromium', reason);
        if (reason) {
          await page.close();
          return context.skip(`WebGPU could not start in this Chromium: ${reason}`);
        }
      }
      const feeds = contractFeeds(3);
      const expected = contractExpected(feeds);
      let result: Scenario;
      try {
        result = await page.evaluate((input) => (globalThis as unknown as { runScenario(value: typeof input): Promise<Scenario> }).runScenario(input), {
          device,
          x: Array.from(feeds.x.data as Float32Array),
          y: Array.from(feeds.y.data as Float32Array),
          ids: Array.from(feeds.ids.data as BigInt64Array, String),
        });
      } catch (error) {
        throw new Error(`${(error as Error).message}\nbrowser log:\n${browser.log.join('\n')}`);
      } finally {
        await page.close();
      }
      expect(result.info.device).toBe(device);
      expect(result.warnings).toEqual([]);
      // wasm never claims fp16, and the flags force SwiftShader, which has no shader-f16.
      expect(result.info.fp16).toBe(false);
      if (device === 'webgpu') {
        expect(result.info.availableDevices).toEqual(['webgpu', 'wasm']);
        // SwiftShader's adapter allows 1 GiB buffers.
        expect(result.info.limits.maxBufferBytes).toBe(2 ** 30);
      }
      // Tolerance 0: each element is one float32 add or multiply, which WGSL, like IEEE wasm,
      // requires to be correctly rounded.
      const close = (actual: number[], wanted: Float32Array) => expect(actual).toEqual(Array.from(wanted));
      expect(result.full.locations).toEqual({ sum: 'cpu', product: 'cpu', shifted: 'cpu', next_ids: 'cpu' });
      close(result.full.sum, expected.sum);
      close(result.full.product, expected.product);
      close(result.full.shifted, expected.shifted);
      expect(result.full.nextIds).toEqual(Array.from(expected.next_ids, String));
      expect(result.subsetKeys).toEqual(['product']);
      expect(result.keptLocation).toBe(device === 'webgpu' ? 'device' : 'cpu');
      close(result.keptSum, expected.sum);
      close(
        result.fedBack,
        Float32Array.from(expected.sum, (value, index) => Math.fround(value * (feeds.y.data as Float32Array)[index])),
      );
      expect(result.afterDispose).toBe('DISPOSED');
      for (const sum of result.concurrent) close(sum, expected.sum);
      expect(result.liveAfterDispose).toBe(0);
    });
  }
});
