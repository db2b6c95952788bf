import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageRun } from '../pages/model-page.js';
import { expectSameOutcomes } from './compare-outcomes.js';
import { callPage, nodeReference, startModelSite, type ModelSite } from './model-site.js';
import type { CallOutcomes } from './reference-calls.js';
import { reportWebgpu, webgpuUnavailable } from './webgpu-status.js';

/**
 * SwiftShader compiles a pipeline per kernel shape at first use (~1–2 s each on these CPUs),
 * which makes one round of the three calls take 70–100 s alone on 2 cores; page and worker get one
 * file each so each file stays near two minutes. The limit leaves room for a loaded CI machine.
 */
const WEBGPU_CALLS_TIMEOUT_MS = 300_000;

/**
 * The built package in Chromium on WebGPU (SwiftShader's Vulkan here: correct, slow, no
 * shader-f16) against onnxruntime-node CPU. When no adapter can start the test says so and is
 * skipped (UNIPIC_REQUIRE_WEBGPU=1 makes that a failure); the wasm file still runs everything.
 */
export function describeWebgpuCalls(where: 'page' | 'worker'): void {
  describe(`the built package in Chromium, WebGPU, in a ${where}`, () => {
    let site: ModelSite;
    let reference: CallOutcomes;
    let unavailable: string | undefined;

    beforeAll(async () => {
      [site, reference] = await Promise.all([startModelSite(), nodeReference()]);
      const page = await site.openPage();
      unavailable = await webgpuUnavailable(page);
      reportWebgpu(`webgpu ${where}`, unavailable);
      await page.close();
    });

    afterAll(async () => {
      await site?.close();
    });

    it(
      `runs understand, generate and edit in the ${where} with the Node CPU results`,
      async (context) => {
        if (unavailable) return context.skip(`WebGPU could not start in this Chromium: ${unavailable}`);
        const page = await site.openPage();
        const run = await callPage<PageRun>(site, page, where === 'page' ? 'runInThread' : 'runInWorker', site.modelUrl, 'webgpu');
        console.info(`[webgpu ${where}] call ms ${JSON.stringify(run.outcomes.milliseconds)}, session ms ${JSON.stringify(run.sessionMilliseconds)}`);
        expect(run.device).toBe('webgpu');
        // SwiftShader has no shader-f16; the fp32-only model needs none, so no dtype fallback is due.
        expect(run.loadWarnings.filter((warning) => warning.code === 'dtype-fallback')).toEqual([]);
        expect(run.modelEvents).toEqual(['understand:success', 'generate:success', 'edit:success']);
        expectSameOutcomes(run.outcomes, reference, `${where} webgpu`);
        await page.close();
      },
      WEBGPU_CALLS_TIMEOUT_MS,
    );
  });
}
