import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { GraphBuilder } from '../../src/convert/onnx/graph-builder.js';
import { MemoryWeightSink } from '../../src/convert/onnx/weight-sink.js';
import { bundlePage, ORT_WEB_DIST, pageHtml } from './support/bundle-page.js';
import { launchChromium, type BrowserSession } from './support/chromium.js';
import { startStaticServer, type StaticServer } from './support/static-server.js';
import { reportWebgpu, webgpuUnavailable } from './support/webgpu-status.js';

// x [1, 300] · W [300, 2] + b: W is 2400 bytes, so it lands in external data (fetched by URL).
const INPUTS = 300;
const weights = Float32Array.from({ length: INPUTS * 2 }, (_, i) => ((i * 37) % 19) / 19 - 0.5);
const bias = [0.25, -1.5];
const input = Array.from({ length: INPUTS }, (_, i) => Math.sin(i));

function smokeGraph(): { model: Uint8Array; data: Uint8Array } {
  const sink = new MemoryWeightSink('smoke.data');
  const graph = new GraphBuilder('smoke', sink);
  const x = graph.input('x', 'float32', [1, INPUTS]);
  const y = graph.op('Add', [graph.op('MatMul', [x, graph.floatInitializer('w', [INPUTS, 2], weights)]), graph.constFloat(bias)]);
  graph.output(y, 'y', 'float32', [1, 2]);
  return { model: graph.toBytes(), data: sink.bytes() };
}

/** Float64 oracle for the graph above. */
function expected(): number[] {
  return [0, 1].map((column) => input.reduce((sum, value, row) => sum + value * weights[row * 2 + column], bias[column]));
}

describe('onnxruntime-web in Chromium', () => {
  let server: StaticServer;
  let browser: BrowserSession;

  beforeAll(async () => {
    const { model, data } = smokeGraph();
    const script = await bundlePage(fileURLToPath(new URL('./pages/ort-smoke-page.ts', import.meta.url)));
    server = await startStaticServer({
      folders: { '/ort/': ORT_WEB_DIST },
      files: { '/index.html': pageHtml('/page.js'), '/page.js': script, '/graphs/smoke.onnx': model, '/graphs/smoke.data': data },
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function openPage() {
    const page = await browser.newPage();
    await page.goto(server.url('/index.html'));
    await page.waitForFunction(() => (globalThis as { pageReady?: boolean }).pageReady === true);
    return page;
  }

  it('serves a cross-origin isolated page', async () => {
    const page = await openPage();
    const environment = await page.evaluate(() => (globalThis as unknown as { environment(): Promise<{ crossOriginIsolated: boolean }> }).environment());
    expect(environment.crossOriginIsolated).toBe(true);
    await page.close();
  });

  for (const device of ['wasm', 'webgpu'] as const) {
    it(`runs a graph with external data on ${device}`, async (context) => {
      const page = await openPage();
      if (device === 'webgpu') {
        const reason = await webgpuUnavailable(page);
        reportWebgpu('ort-smoke', reason);
        if (reason) {
          await page.close();
          return context.skip(`WebGPU could not start in this Chromium: ${reason}`);
        }
      }
      try {
        const result = await page.evaluate(
          ([name, values]) => (globalThis as unknown as { runGraph(d: string, v: number[]): Promise<{ output: number[]; dims: number[] }> }).runGraph(name, values),
          [device, input] as const,
        );
        expect(result.dims).toEqual([1, 2]);
        // fp32 accumulation of 300 products of magnitude ≤ 0.5 against a float64 sum: 1e-4 absolute.
        const oracle = expected();
        for (let i = 0; i < 2; i++) expect(Math.abs(result.output[i] - oracle[i])).toBeLessThan(1e-4);
      } catch (error) {
        throw new Error(`${(error as Error).message}\nbrowser log:\n${browser.log.join('\n')}`);
      } finally {
        await page.close();
      }
    });
  }
});
