import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/convert/onnx/graph-builder.js';
import type { GraphFeed } from './pages/graph-page.js';
import { bundlePage, ORT_WEB_DIST, pageHtml } from './support/bundle-page.js';
import { launchChromium, type BrowserSession } from './support/chromium.js';
import { startStaticServer, type StaticServer } from './support/static-server.js';
import { openReadyPage } from './support/webgpu-status.js';

/**
 * Cos and Sin on onnxruntime-web: WGSL only promises sin/cos within 2⁻¹¹ absolute on [−π, π], and
 * SwiftShader uses about half of that (≈ 1.9e-4), while wasm is exact to float32 rounding. Graphs
 * that compute rotary cos/sin from angles in the graph (the `llm` graphs) therefore leave the CPU's
 * hidden states by ≈ 1e-4 on WebGPU, which is why metaquery-chromium.test.ts holds WebGPU latents
 * to 5e-4 instead of 1e-4. This measures both devices on angles up to 30 rad (the rotary angles
 * of a few hundred tokens) and holds them to those bounds.
 */
const COUNT = 4096;
const MAX_ANGLE = 30;
/** WGSL's sin/cos accuracy (absolute, inside [−π, π]); measured the same up to ±30 rad here. */
const WGSL_TRIG_ERROR = 2 ** -11;

function trigGraph(): Uint8Array {
  const g = new GraphBuilder('trig');
  const x = g.input('x', 'float32', [COUNT]);
  g.output(g.op('Cos', [x]), 'cos', 'float32', [COUNT]);
  g.output(g.op('Sin', [x]), 'sin', 'float32', [COUNT]);
  return g.toBytes();
}

const angles = Array.from({ length: COUNT }, (_, i) => (i / COUNT) * 2 * MAX_ANGLE - MAX_ANGLE);

let server: StaticServer;
let browser: BrowserSession;

beforeAll(async () => {
  const files = {
    '/index.html': pageHtml('/page.js'),
    '/page.js': await bundlePage(fileURLToPath(new URL('pages/graph-page.ts', import.meta.url))),
    '/graphs/trig.onnx': trigGraph(),
  };
  server = await startStaticServer({ folders: { '/ort/': ORT_WEB_DIST }, files });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('Cos and Sin on onnxruntime-web', () => {
  for (const [device, bound] of [
    ['wasm', 1e-6],
    ['webgpu', WGSL_TRIG_ERROR],
  ] as const)
    it(`${device}: within ${bound.toExponential(1)} of Math.cos / Math.sin up to ±${MAX_ANGLE} rad`, async (context) => {
      const page = await browser.newPage();
      try {
        const unavailable = await openReadyPage(page, server.url('/index.html'), device, 'trig webgpu');
        if (unavailable) return context.skip(`WebGPU could not start in this Chromium: ${unavailable}`);
        const out = await page.evaluate(
          ([url, d, data]) =>
            (globalThis as unknown as { runGraph(u: string, d: string, f: Record<string, GraphFeed>): Promise<Record<string, GraphFeed>> }).runGraph(url, d, {
              x: { data, dims: [data.length] },
            }),
          ['/graphs/trig.onnx', device, angles] as const,
        );
        let worst = 0;
        angles.forEach((x, i) => {
          worst = Math.max(worst, Math.abs(out.cos.data[i] - Math.cos(x)), Math.abs(out.sin.data[i] - Math.sin(x)));
        });
        console.info(`[trig ${device}] largest sin/cos error ${worst.toExponential(2)}`);
        expect(worst).toBeLessThan(bound);
      } finally {
        await page.close();
      }
    }, 120_000);
});
