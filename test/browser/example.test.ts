import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import type { Page } from 'playwright-core';
import { tinyModelDir } from '../support/tiny-model.js';
import { ensureBuiltPackage } from './helpers/built-package.js';
import { REPOSITORY_ROOT } from './helpers/bundle-page.js';
import { launchChromium, type BrowserSession } from './helpers/chromium.js';
import { PIXEL_MAX_DIFFERENCE, PIXEL_MEAN_DIFFERENCE } from './helpers/compare-outcomes.js';
import { nodeReference } from './helpers/model-site.js';
import { CALL_SETTINGS, INPUT_IMAGE_FIXTURE, pixelDifference, type CallOutcomes } from './helpers/reference-calls.js';
import { startStaticServer, type StaticServer } from './helpers/static-server.js';

const EXAMPLE = join(REPOSITORY_ROOT, 'examples', 'browser');
const ARTIFACTS = join(REPOSITORY_ROOT, 'test', '.artifacts');
const OUTPUT = join(ARTIFACTS, 'example-browser-dist');
/** Kept after the run: what the example looked like when it finished (CI can upload it). */
export const SCREENSHOT = join(ARTIFACTS, 'example-browser.png');
const INPUT_IMAGE = fileURLToPath(new URL(`../fixtures/images/sources/${INPUT_IMAGE_FIXTURE}`, import.meta.url));

/**
 * examples/browser built by Vite against the built package, served with the tiny model, and
 * driven like a user would: load, pick an image, ask, generate, edit, cancel; then a screenshot.
 */
describe('the Vite example in Chromium', () => {
  let server: StaticServer;
  let browser: BrowserSession;
  let reference: CallOutcomes;
  let page: Page;

  beforeAll(async () => {
    await ensureBuiltPackage();
    const [modelFolder, nodeOutcomes] = await Promise.all([
      tinyModelDir(['fp32']),
      nodeReference(),
      build({ root: EXAMPLE, configFile: join(EXAMPLE, 'vite.config.ts'), logLevel: 'error', build: { outDir: OUTPUT, emptyOutDir: true } }),
    ]);
    reference = nodeOutcomes;
    server = await startStaticServer({
      folders: { '/': OUTPUT, '/models/tiny/': modelFolder },
    });
    browser = await launchChromium();
    page = await browser.newPage();
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

  it('renders, loads the model in its worker and runs ask, generate and edit', async () => {
    await page.goto(server.url('/?model=/models/tiny/'));
    expect(await page.title()).toBe('UniPic in the browser');
    await page.selectOption('#device', 'wasm');
    await page.click('#load');
    await settle('#load-status');
    expect(await page.textContent('#load-status')).toContain('ready on wasm');
    expect(await page.getAttribute('#load-progress', 'value')).toBe('1');

    await page.setInputFiles('#image-file', INPUT_IMAGE);
    await setImageSettings(CALL_SETTINGS.generate);
    await page.fill('#question', CALL_SETTINGS.understand.prompt);
    await page.click('#ask');
    await settle('#run-status');
    // Same image, size and question as the reference, but the app asks for the default 1024 tokens:
    // greedy decoding makes the reference's 4 tokens the start of the answer.
    expect(await page.textContent('#answer')).toMatch(new RegExp(`^${escapeRegExp(reference.understand.text)}`));

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
  });

  it('cancels a long generation from the page', async () => {
    await setImageSettings({ size: 128, steps: 64, diffusionSteps: 50, seed: 1 });
    await page.click('#generate');
    await page.waitForFunction(() => /^step \d+ of 64$/.test(document.querySelector('#run-status')?.textContent ?? ''));
    expect(await page.isEnabled('#cancel')).toBe(true);
    await page.click('#cancel');
    expect(await waitForState('#run-status', ['done', 'error', 'cancelled'], 20_000)).toBe('cancelled');
    const progress = Number(await page.getAttribute('#run-progress', 'value'));
    expect(progress).toBeLessThan(0.5);
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

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
