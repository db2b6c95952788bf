import type { Page } from 'playwright-core';

/**
 * Why WebGPU cannot start in this page, or undefined when an adapter is there. With
 * UNIPIC_REQUIRE_WEBGPU=1 a missing adapter fails the test instead of skipping it.
 */
export async function webgpuUnavailable(page: Page): Promise<string | undefined> {
  const reason = await page.evaluate(async () => {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    if (!gpu) return 'navigator.gpu is missing';
    try {
      return (await gpu.requestAdapter()) ? undefined : 'navigator.gpu.requestAdapter() returned null';
    } catch (error) {
      return `navigator.gpu.requestAdapter() threw: ${String(error)}`;
    }
  });
  if (reason && process.env.UNIPIC_REQUIRE_WEBGPU === '1') throw new Error(`UNIPIC_REQUIRE_WEBGPU=1 but WebGPU cannot start: ${reason}`);
  return reason;
}

/** Say plainly, in the test output, whether the WebGPU half of a test ran. */
export function reportWebgpu(test: string, reason: string | undefined): void {
  if (reason) console.warn(`[${test}] WebGPU did NOT start in Chromium (${reason}); only the wasm results are checked`);
  else console.info(`[${test}] WebGPU started in Chromium`);
}

/**
 * Opens a test page and waits for its script (`pageReady`); on WebGPU also says, in the output and
 * as the result, why WebGPU cannot start there (undefined when it can).
 */
export async function openReadyPage(page: Page, url: string, device: 'wasm' | 'webgpu', test: string): Promise<string | undefined> {
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as { pageReady?: boolean }).pageReady === true);
  if (device !== 'webgpu') return undefined;
  const unavailable = await webgpuUnavailable(page);
  reportWebgpu(test, unavailable);
  return unavailable;
}
