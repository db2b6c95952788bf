import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/convert/onnx/graph-builder.js';
import { chunkLastAxis } from '../../src/convert/graphs/layers/split-chunks.js';
import type { GraphFeed } from './pages/graph-page.js';
import { bundlePage, ORT_WEB_DIST, pageHtml } from './support/bundle-page.js';
import { launchChromium, type BrowserSession } from './support/chromium.js';
import { startStaticServer, type StaticServer } from './support/static-server.js';
import { reportWebgpu, webgpuUnavailable } from './support/webgpu-status.js';

/**
 * onnxruntime-web 1.30's WebGPU (JSEP) Split gives wrong values with 8 or more outputs (one shader
 * binds the input and every output; WebGPU allows 8 storage buffers per stage by default). That
 * broke the Kontext transformer's 9-way AdaLN modulation split on WebGPU only. `chunkLastAxis`
 * never emits a Split of more than 7 outputs; this test checks it in Chromium on WebGPU against
 * the exact expected chunks, and reports (without asserting, so an ORT fix does not fail it)
 * whether the plain one-node Split is still wrong.
 */
const WIDTH = 32;
const COUNTS = [2, 7, 8, 9, 16] as const;

function chunksGraph(count: number, plain: boolean): Uint8Array {
  const g = new GraphBuilder(plain ? 'plain_split' : 'chunks');
  const x = g.input('x', 'float32', [2, 1, count * WIDTH]);
  const parts = plain
    ? g.node('Split', [x, g.constInt64(new Array<number>(count).fill(WIDTH))], { attributes: { axis: -1 }, outputCount: count })
    : chunkLastAxis(g, x, count, WIDTH);
  // Identity: a graph output may not be a graph input (count 1) and every part gets its own name.
  parts.forEach((part, i) => g.output(g.op('Identity', [part]), `part${i}`, 'float32', [2, 1, WIDTH]));
  return g.toBytes();
}

const input = (count: number): GraphFeed => ({ data: Array.from({ length: 2 * count * WIDTH }, (_, i) => i - count * WIDTH), dims: [2, 1, count * WIDTH] });

/** Chunk `i` of both batch rows, as Split must give it. */
function expectedPart(count: number, i: number): number[] {
  const row = count * WIDTH;
  return [0, 1].flatMap((b) => Array.from({ length: WIDTH }, (_, j) => b * row + i * WIDTH + j - row));
}

let server: StaticServer;
let browser: BrowserSession;

beforeAll(async () => {
  const files: Record<string, string | Uint8Array> = {
    '/index.html': pageHtml('/page.js'),
    '/page.js': await bundlePage(fileURLToPath(new URL('pages/graph-page.ts', import.meta.url))),
  };
  for (const count of COUNTS) {
    files[`/graphs/chunks${count}.onnx`] = chunksGraph(count, false);
    files[`/graphs/plain${count}.onnx`] = chunksGraph(count, true);
  }
  server = await startStaticServer({ folders: { '/ort/': ORT_WEB_DIST }, files });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('Split on onnxruntime-web WebGPU', () => {
  it('chunkLastAxis gives exact chunks for 2 to 16 parts', async (context) => {
    const page = await browser.newPage();
    try {
      await page.goto(server.url('/index.html'));
      await page.waitForFunction(() => (globalThis as { pageReady?: boolean }).pageReady === true);
      const unavailable = await webgpuUnavailable(page);
      reportWebgpu('split webgpu', unavailable);
      if (unavailable) return context.skip(`WebGPU could not start in this Chromium: ${unavailable}`);
      const run = (graph: string, count: number) =>
        page.evaluate(
          ([url, feed]) =>
            (globalThis as unknown as { runGraph(u: string, d: string, f: Record<string, GraphFeed>): Promise<Record<string, GraphFeed>> }).runGraph(url, 'webgpu', {
              x: feed,
            }),
          [`/graphs/${graph}${count}.onnx`, input(count)] as const,
        );
      const plainWrong: number[] = [];
      for (const count of COUNTS) {
        const chunks = await run('chunks', count);
        for (let i = 0; i < count; i++) expect(chunks[`part${i}`].data, `chunk ${i} of ${count}`).toEqual(expectedPart(count, i));
        const plain = await run('plain', count);
        if (Array.from({ length: count }, (_, i) => plain[`part${i}`].data.join() !== expectedPart(count, i).join()).some(Boolean)) plainWrong.push(count);
      }
      console.info(`[split webgpu] a single Split node is wrong on this onnxruntime-web for ${plainWrong.join(', ') || 'no'} outputs`);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nbrowser log:\n${browser.log.slice(-20).join('\n')}`);
    } finally {
      await page.close();
    }
  }, 300_000);
});
