import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertModel, registerConverter } from '../../src/convert/index.js';
import { metaqueryConverter } from '../../src/families/unipic2-metaquery/converter.js';
import { UniPic } from '../../src/index.node.js';
import { fixtureCheckpoint } from '../families/unipic2-metaquery/support/graph-harness.js';
import { MQ_FIXTURES, mqInt, mqNotes } from '../families/unipic2-metaquery/support/goldens.js';
import type { MetaqueryPageCall, MetaqueryPageRun } from './pages/metaquery-page.js';
import { ensureBuiltPackage } from './support/built-package.js';
import { bundlePage, ORT_WEB_DIST, pageHtml } from './support/bundle-page.js';
import { launchChromium, type BrowserSession } from './support/chromium.js';
import { startStaticServer, type StaticServer } from './support/static-server.js';
import { reportWebgpu, webgpuUnavailable } from './support/webgpu-status.js';

/**
 * The built package in Chromium: the tiny UniPic2-Metaquery model (the oracle's checkpoint,
 * converted at fp32 and served over HTTP) answers a question and a follow-up on the same image
 * (the image prefix's KV cache reused) with the tokens onnxruntime-node CPU gives, on wasm and on
 * WebGPU (SwiftShader). The first answer is also the PyTorch oracle's. Generate and edit join
 * when the family has them.
 */
const MODEL_PATH = '/models/metaquery/';
/** The first is the default question (the oracle's), the second a follow-up on the same image. */
const QUESTIONS: (string | null)[] = [null, 'What colour is the top left corner?'];
let server: StaticServer;
let browser: BrowserSession;
let checkpoint: string;
let folder: string;
let reference: MetaqueryPageCall[];

beforeAll(async () => {
  registerConverter(metaqueryConverter);
  checkpoint = fixtureCheckpoint();
  folder = join(checkpoint, 'model');
  await convertModel(checkpoint, folder, { dtypes: ['fp32'] });
  reference = await nodeCalls();
  await ensureBuiltPackage();
  const page = await bundlePage(fileURLToPath(new URL('pages/metaquery-page.ts', import.meta.url)));
  server = await startStaticServer({
    folders: { '/ort/': ORT_WEB_DIST, [MODEL_PATH]: folder },
    files: { '/index.html': pageHtml('/page.js'), '/page.js': page, '/image.png': readFileSync(join(MQ_FIXTURES, 'image.png')) },
  });
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (checkpoint) rmSync(checkpoint, { recursive: true, force: true });
});

async function nodeCalls(): Promise<MetaqueryPageCall[]> {
  const model = await UniPic.load(folder, { device: 'cpu', dtype: 'fp32', threads: 1, family: 'unipic2-metaquery' });
  try {
    const image = new Uint8Array(readFileSync(join(MQ_FIXTURES, 'image.png')));
    const calls: MetaqueryPageCall[] = [];
    for (const prompt of QUESTIONS) {
      const run = model.understand({ image, ...(prompt === null ? {} : { prompt }), maxTokens: 10 });
      let streamed = '';
      for await (const event of run) if (event.type === 'text-delta') streamed += event.delta;
      const result = await run.result;
      calls.push({ tokens: [...result.tokens], text: result.text, streamed, reusedImageCache: result.reusedImageCache });
    }
    return calls;
  } finally {
    await model.dispose();
  }
}

async function pageRun(device: 'wasm' | 'webgpu'): Promise<MetaqueryPageRun | string> {
  const page = await browser.newPage();
  try {
    await page.goto(server.url('/index.html'));
    await page.waitForFunction(() => (globalThis as { pageReady?: boolean }).pageReady === true);
    if (device === 'webgpu') {
      const unavailable = await webgpuUnavailable(page);
      reportWebgpu('metaquery webgpu', unavailable);
      if (unavailable) return unavailable;
    }
    type Runner = (model: string, image: string, d: string, questions: (string | null)[]) => Promise<MetaqueryPageRun>;
    return (await page.evaluate(([model, image, d, questions]) => (globalThis as unknown as { runMetaquery: Runner }).runMetaquery(model, image, d, questions), [
      server.url(MODEL_PATH),
      server.url('/image.png'),
      device,
      QUESTIONS,
    ] as const)) as MetaqueryPageRun;
  } catch (error) {
    throw new Error(`runMetaquery failed in Chromium: ${(error as Error).message}\n${browser.log.slice(-30).join('\n')}`);
  } finally {
    await page.close();
  }
}

describe('UniPic2-Metaquery in Chromium', () => {
  it('Node CPU reproduces the oracle and reuses the image cache for the follow-up (the reference the pages are held to)', () => {
    expect(reference[0].tokens).toEqual(mqInt('understand.tokens'));
    expect(reference[0].text).toBe(mqNotes['understand.decoded']);
    expect(reference.map((call) => call.reusedImageCache)).toEqual([false, true]);
    expect(reference[1].tokens).toHaveLength(10);
  });

  for (const device of ['wasm', 'webgpu'] as const)
    it(`understands on ${device} as onnxruntime-node CPU does`, async (context) => {
      const run = await pageRun(device);
      if (typeof run === 'string') {
        // No WebGPU adapter here: reported (UNIPIC_REQUIRE_WEBGPU=1 makes it a failure), as the other WebGPU suites do.
        context.skip();
        return;
      }
      expect(run.device).toBe(device);
      expect(run.family).toBe('unipic2-metaquery');
      expect(run.capabilities).toEqual(['understand']);
      expect(run.calls).toEqual(reference);
      for (const call of run.calls) expect(call.streamed).toBe(call.text);
    }, 300_000);
});
