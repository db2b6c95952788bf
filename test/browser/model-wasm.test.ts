import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callPage, MODEL_PATH, nodeReference, startModelSite, type ModelSite } from './support/model-site.js';
import { expectSameOutcomes } from './support/compare-outcomes.js';
import type { CallOutcomes } from './support/reference-calls.js';
import type { PageRun } from './pages/model-page.js';
import { HANG_GUARD_MS } from '../support/hang-guard.js';

/** Pages are cross-origin isolated, so ORT can use threads; two exercise its pthread workers. */
const WASM_THREADS = 2;

/**
 * The built package in Chromium on wasm: the tiny model loads over HTTP into the Cache API and
 * runs understand, generate and edit in the page and in a worker, matching onnxruntime-node CPU.
 */
describe('the built package in Chromium, wasm', () => {
  let site: ModelSite;
  let reference: CallOutcomes;
  let inPage: CallOutcomes | undefined;

  beforeAll(async () => {
    [site, reference] = await Promise.all([startModelSite(), nodeReference()]);
  });

  afterAll(async () => {
    await site?.close();
  });

  it(
    'runs in the page, downloading into the Cache API, with the Node CPU results',
    async () => {
      const page = await site.openPage();
      // Two wasm threads whatever the machine (ORT starts its pthreads), the same in the worker below.
      const run = await callPage<PageRun>(site, page, 'runInThread', site.modelUrl, 'wasm', WASM_THREADS);
      expect(run.device).toBe('wasm');
      expect(run.phases).toContain('download');
      expect(run.progressMonotonic).toBe(true);
      expect(run.progressComplete).toBe(true);
      expect(run.modelEvents).toEqual(['understand:success', 'generate:success', 'edit:success']);
      expectSameOutcomes(run.outcomes, reference, 'page wasm');
      inPage = run.outcomes;

      const cached = await callPage<{ files: number; present: number; storage: { usage?: number } }>(site, page, 'cacheState', site.modelUrl);
      // Every file the three capabilities need is in the cache (the manifest lists fp32 only here).
      expect(cached.present).toBe(cached.files);
      expect(cached.storage.usage).toBeGreaterThan(0);
      await page.close();
    },
    HANG_GUARD_MS,
  );

  it(
    'runs in a worker from the cache (no graph downloads) with the same results as the page',
    async () => {
      const page = await site.openPage();
      const before = site.server.requests.length;
      // Same thread count as the page: thread partitioning changes float rounding.
      const run = await callPage<PageRun>(site, page, 'runInWorker', site.modelUrl, 'wasm', WASM_THREADS);
      const modelFetches = site.server.requests.slice(before).filter((request) => request.path.startsWith(MODEL_PATH) && !request.path.endsWith('unipic.json'));
      expect(modelFetches).toEqual([]);
      expect(run.phases).toContain('cache-read');
      expect(run.phases).not.toContain('download');
      expect(run.device).toBe('wasm');
      expect(run.modelEvents).toEqual(['understand:success', 'generate:success', 'edit:success']);
      expectSameOutcomes(run.outcomes, reference, 'worker wasm');
      // Same wasm kernels, threads and seeds: the worker reproduces the page bit for bit.
      expect(inPage, 'the page run (previous test) must have passed').toBeDefined();
      expect(run.outcomes.understand).toEqual(inPage?.understand);
      expect(run.outcomes.generate.pixels).toEqual(inPage?.generate.pixels);
      expect(run.outcomes.edit.pixels).toEqual(inPage?.edit.pixels);
      await page.close();
    },
    HANG_GUARD_MS,
  );

  it(
    'stops the worker run when the page aborts it, and the worker takes the next call',
    async () => {
      const page = await site.openPage();
      const outcome = await callPage<{
        iterations: number;
        stoppedAfterMs: number;
        errorName?: string;
        errorCode?: string;
        errorMessage?: string;
        ends: string[];
        afterImages: number;
      }>(site, page, 'abortInWorker', site.modelUrl);
      console.info(`[abort in worker] ${outcome.iterations} iteration(s) reported, stopped ${Math.round(outcome.stoppedAfterMs)} ms after the abort`);
      expect(outcome.errorName).toBe('AbortError');
      expect(outcome.errorCode).toBe('ABORTED');
      expect(outcome.errorMessage).toBe('cancel pressed');
      // Aborted when the first of 64 iterations finished. The worker reads the abort message at its
      // next yield (≤ 8 ms of ORT work later) and stops at the next ORT run, so at most the
      // iteration in flight may still report.
      expect(outcome.iterations).toBeLessThanOrEqual(2);
      expect(outcome.ends).toEqual(['aborted', 'success']);
      expect(outcome.afterImages).toBe(1);
      await page.close();
    },
    HANG_GUARD_MS,
  );

  it('clears the model from the Cache API; the next load downloads again', async () => {
    const page = await site.openPage();
    await callPage(site, page, 'loadOnly', site.modelUrl);
    const filled = await callPage<{ files: number; present: number }>(site, page, 'cacheState', site.modelUrl);
    expect(filled.present).toBe(filled.files);
    await callPage(site, page, 'clearCache', site.modelUrl);
    const cleared = await callPage<{ files: number; present: number }>(site, page, 'cacheState', site.modelUrl);
    expect(cleared.present).toBe(0);
    const reloaded = await callPage<{ phases: string[]; progressComplete: boolean }>(site, page, 'loadOnly', site.modelUrl);
    expect(reloaded.phases).toContain('download');
    expect(reloaded.phases).not.toContain('cache-read');
    expect(reloaded.progressComplete).toBe(true);
    await page.close();
  });
});
