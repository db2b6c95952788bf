import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { UniPic } from '../../../src/index.node.js';
import { tinyModelDir } from '../../support/tiny-model.js';
import { ensureBuiltPackage } from './built-package.js';
import { bundlePage, ORT_WEB_DIST, pageHtml } from './bundle-page.js';
import { launchChromium, type BrowserSession } from './chromium.js';
import { INPUT_IMAGE_FIXTURE, runCalls, type CallableModel, type CallOutcomes } from './reference-calls.js';
import { startStaticServer, type StaticServer } from './static-server.js';

export const MODEL_PATH = '/models/tiny/';
const PAGES = new URL('../pages/', import.meta.url);
const INPUT_IMAGE = fileURLToPath(new URL(`../../fixtures/images/sources/${INPUT_IMAGE_FIXTURE}`, import.meta.url));

export interface ModelSite {
  readonly server: StaticServer;
  readonly browser: BrowserSession;
  readonly modelUrl: string;
  openPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * The built package (dist/browser) bundled into a test page and a worker script, served with the
 * tiny fp32 model, onnxruntime-web's runtime files and the input image, in a fresh Chromium.
 */
export async function startModelSite(): Promise<ModelSite> {
  await ensureBuiltPackage();
  const [modelFolder, page, worker] = await Promise.all([
    tinyModelDir(['fp32']),
    bundlePage(fileURLToPath(new URL('model-page.ts', PAGES))),
    bundlePage(fileURLToPath(new URL('model-worker.ts', PAGES))),
  ]);
  const server = await startStaticServer({
    folders: { '/ort/': ORT_WEB_DIST, [MODEL_PATH]: modelFolder },
    files: {
      '/index.html': pageHtml('/page.js'),
      '/page.js': page,
      '/model-worker.js': worker,
      '/images/input.png': readFileSync(INPUT_IMAGE),
    },
  });
  const browser = await launchChromium();
  return {
    server,
    browser,
    modelUrl: server.url(MODEL_PATH),
    async openPage() {
      const opened = await browser.newPage();
      await opened.goto(server.url('/index.html'));
      await opened.waitForFunction(() => (globalThis as { pageReady?: boolean }).pageReady === true);
      return opened;
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** Call a function the page put on globalThis; page errors come back with the browser's log. */
export async function callPage<T>(site: ModelSite, page: Page, name: string, ...args: unknown[]): Promise<T> {
  try {
    return (await page.evaluate(
      ([functionName, values]) => (globalThis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[functionName as string](...(values as unknown[])),
      [name, args] as const,
    )) as T;
  } catch (error) {
    throw new Error(`${name}() failed in Chromium: ${(error as Error).message}\nbrowser log:\n${site.browser.log.slice(-40).join('\n')}`);
  }
}

/** The same calls on onnxruntime-node CPU: the reference the browser results are held to. */
export async function nodeReference(): Promise<CallOutcomes> {
  const model = await UniPic.load(await tinyModelDir(['fp32']), { device: 'cpu', dtype: 'fp32' });
  try {
    return await runCalls(model as unknown as CallableModel, new Uint8Array(readFileSync(INPUT_IMAGE)));
  } finally {
    await model.dispose();
  }
}
