import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { tinyModelDir } from '../support/tiny-model.js';
import { ensureBuiltPackage } from './support/built-package.js';
import { REPOSITORY_ROOT } from './support/bundle-page.js';
import { launchChromium, type BrowserSession } from './support/chromium.js';
import { PIXEL_MAX_DIFFERENCE, PIXEL_MEAN_DIFFERENCE } from './support/compare-outcomes.js';
import { buildExample, EXAMPLE, installExample, startPreview, type PreviewServer } from './support/example-app.js';
import { nodeReference } from './support/model-site.js';
import { CALL_SETTINGS, INPUT_IMAGE_FIXTURE, pixelDifference, type CallOutcomes } from './support/reference-calls.js';
import { HANG_GUARD_MS } from '../support/hang-guard.js';

const ARTIFACTS = join(REPOSITORY_ROOT, 'test', '.artifacts');
/** Kept after the run: what the example looked like when it finished (CI can upload it). */
export const SCREENSHOT = join(ARTIFACTS, 'example-browser.png');
const INPUT_IMAGE = fileURLToPath(new URL(`../fixtures/images/sources/${INPUT_IMAGE_FIXTURE}`, import.meta.url));

/**
 * examples/browser as its README has a user run it: the root built, then in examples/browser its
 * own `npm ci` (its committed lockfile), the tiny model in public/models/tiny/, `npm run build`
 * and `npm run preview`. Then driven like a user would: load, pick an image, ask, generate, edit,
 * cancel; then a screenshot.
 */
describe('the Vite example, installed, built and previewed as its README says, in Chromium', () => {
  let server: PreviewServer;
  let browser: BrowserSession;
  let reference: CallOutcomes;
  let page: Page;
  let output: string;

  beforeAll(async () => {
    const [modelFolder, nodeOutcomes] = await Promise.all([tinyModelDir(['fp32']), nodeReference(), ensureBuiltPackage(), installExample()]);
    reference = nodeOutcomes;
    output = await buildExample({ tiny: modelFolder });
    server = await startPreview();
    browser = await launchChromium();
    page = await browser.newPage();
  }, 600_000);

  it('bundles one onnxruntime-web: the version the root is tested with, one .wasm', () => {
    const rootLock = JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'package-lock.json'), 'utf8'));
    const exampleLock = JSON.parse(readFileSync(join(EXAMPLE, 'package-lock.json'), 'utf8'));
    const rootVersion = rootLock.packages['node_modules/onnxruntime-web'].version as string;
    expect(exampleLock.packages[''].dependencies['onnxruntime-web']).toBe(rootVersion);
    expect(exampleLock.packages['node_modules/onnxruntime-web'].version).toBe(rootVersion);
    const wasm = readdirSync(join(output, 'assets')).filter((file) => /^ort-wasm.*\.wasm$/.test(file));
    expect(wasm).toHaveLength(1);
  });

  it('says "no model at this URL" when the URL is a page of the app, not a model folder', async () => {
    // Vite's server (like most single-page-app servers) answers index.html for any path.
    await page.goto(server.url('/?model=/models/nothing/'));
    await page.selectOption('#device', 'wasm');
    await page.click('#load');
    expect(await waitForState('#load-status', ['ready', 'error'])).toBe('error');
    const message = await page.textContent('#load-status');
    expect(message).toContain('no model at');
    expect(message).toContain('/models/nothing/unipic.json');
    expect(message).toContain('unipic convert');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function waitForState(selector: string, states: string[], timeout = 60_000): Promise<string> {
    const handle = await page.waitForFunction(
      ([target, wanted]) => {
        const state = document.querySelector<HTMLElement>(target as string)?.dataset.state;
        return state && (wanted as string[]).includes(state) ? state : undefined;
      },
      [selector, states] as const,
      { timeout },
    );
    return (await handle.jsonValue()) as string;
  }

  async function settle(selector: string): Promise<void> {
    const state = await waitForState(selector, ['done', 'ready', 'error', 'cancelled']);
    const text = await page.textContent(selector);
    expect(state, `${selector}: ${text}\n${browser.log.slice(-20).join('\n')}`).not.toBe('error');
  }

  async function setImageSettings(settings: { size: number; steps: number; diffusionSteps: number; seed: number }) {
    // The settings sit in a collapsed <details>, as a user would find them.
    if (!(await page.$eval('details', (details) => (details as HTMLDetailsElement).open))) await page.click('summary');
    await page.selectOption('#size', String(settings.size));
    await page.fill('#steps', String(settings.steps));
    await page.fill('#diffusion-steps', String(settings.diffusionSteps));
    await page.fill('#seed', String(settings.seed));
  }

  it(
    'renders, loads the model in its worker and runs ask, generate and edit',
    async () => {
      await page.goto(server.url('/?model=/models/tiny/'));
      expect(await page.title()).toBe('UniPic in the browser');
      // The default device, auto: WebGPU only when it is a real GPU; SwiftShader (what these tests
      // get) is 25-35x slower than wasm (docs/browser.md), so the example takes wasm and says why.
      expect(await page.inputValue('#device')).toBe('auto');
      const softwareWebgpu = await page.evaluate(async () => {
        const gpu = (navigator as { gpu?: { requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean }; isFallbackAdapter?: boolean } | null> } }).gpu;
        const adapter = await gpu?.requestAdapter();
        return Boolean(adapter && (adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter));
      });
      await page.click('#load');
      await settle('#load-status');
      expect(await page.textContent('#load-status')).toContain('ready on wasm');
      expect(await page.getAttribute('#load-progress', 'value')).toBe('1');
      const note = await page.$('#warnings li[data-code="software-webgpu"]');
      expect(Boolean(note)).toBe(softwareWebgpu);
      if (note) expect(await note.textContent()).toMatch(/^WebGPU here is a software adapter \(no GPU\), much slower than wasm: using wasm/);
      // Defaults that fit a machine without a GPU: the smallest size, a 64-token answer.
      expect(await page.inputValue('#size')).toBe('64');
      expect(await page.inputValue('#max-tokens')).toBe('64');

      await page.setInputFiles('#image-file', INPUT_IMAGE);
      await setImageSettings(CALL_SETTINGS.generate);
      await page.fill('#question', CALL_SETTINGS.understand.prompt);
      await page.fill('#max-tokens', String(CALL_SETTINGS.understand.maxTokens));
      await page.click('#ask');
      await settle('#run-status');
      // Same image, size, question and token limit as the reference: greedy decoding, same answer.
      expect(await page.textContent('#answer')).toBe(reference.understand.text);
      expect(await page.textContent('#run-status')).toContain(`(${CALL_SETTINGS.understand.maxTokens} tokens)`);

      await page.fill('#prompt', CALL_SETTINGS.generate.prompt);
      await setImageSettings(CALL_SETTINGS.generate);
      await page.click('#generate');
      await settle('#run-status');
      expect(await page.getAttribute('#run-progress', 'value')).toBe('1');
      expect(await page.isVisible('#download')).toBe(true);
      // The picture on the canvas is the model's output: the Node CPU reference within tolerance.
      const painted = await page.evaluate(() => {
        const canvas = document.querySelector<HTMLCanvasElement>('#output') as HTMLCanvasElement;
        return Array.from(canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? []);
      });
      const difference = pixelDifference(painted, reference.generate.pixels);
      expect(difference.max).toBeLessThanOrEqual(PIXEL_MAX_DIFFERENCE);
      expect(difference.mean).toBeLessThanOrEqual(PIXEL_MEAN_DIFFERENCE);

      await page.fill('#instruction', CALL_SETTINGS.edit.prompt);
      await setImageSettings(CALL_SETTINGS.edit);
      await page.click('#edit');
      await settle('#run-status');
      expect(await page.textContent('#run-status')).toMatch(/^done in/);
    },
    HANG_GUARD_MS,
  );

  it('cancels a long generation from the page', async () => {
    await setImageSettings({ size: 128, steps: 64, diffusionSteps: 50, seed: 1 });
    await page.click('#generate');
    await page.waitForFunction(() => /^step \d+ of 64$/.test(document.querySelector('#run-status')?.textContent ?? ''));
    expect(await page.isEnabled('#cancel')).toBe(true);
    await page.click('#cancel');
    // The state, not how far it got: under load the worker may have finished more steps.
    expect(await waitForState('#run-status', ['done', 'error', 'cancelled'], 60_000)).toBe('cancelled');
    expect(await page.textContent('#run-status')).toBe('cancelled');
    expect(Number(await page.getAttribute('#run-progress', 'value'))).toBeLessThan(1);
    expect(await page.isEnabled('#generate')).toBe(true);
    expect(await page.isDisabled('#cancel')).toBe(true);

    mkdirSync(ARTIFACTS, { recursive: true });
    const screenshot = await page.screenshot({ fullPage: true });
    writeFileSync(SCREENSHOT, screenshot);
    // A PNG with the page in it (an empty page compresses to a few kilobytes).
    expect([...screenshot.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(screenshot.length).toBeGreaterThan(20_000);
  });
});
