import { UniPic, UniPicError, CacheApiCache, InvalidInputError, ModelNotFoundError, estimateStorage, type LoadProgressEvent } from 'unipic';
import { createWorkerModel } from 'unipic/worker';
import { probeBrowser } from '../../../src/browser/probe-browser.js';
import { runCalls, type CallableModel, type CallOutcomes } from '../support/reference-calls.js';
import { runRegion, type RegionOutcome } from '../support/region-call.js';

/** Where the page finds things (all on the test server's origin). */
const ORT_FILES = new URL('/ort/', location.href).href;
const WORKER_SCRIPT = '/model-worker.js';

export interface PageRun {
  readonly outcomes: CallOutcomes;
  readonly device: string;
  readonly loadWarnings: readonly { code: string; message: string }[];
  readonly phases: string[];
  readonly progressMonotonic: boolean;
  readonly progressComplete: boolean;
  readonly modelEvents: string[];
  /** Milliseconds each graph's session took to create (shader compilation included on WebGPU). */
  readonly sessionMilliseconds: Record<string, number>;
}

async function inputImage(): Promise<Uint8Array> {
  return new Uint8Array(await (await fetch('/images/input.png')).arrayBuffer());
}

/** Progress bookkeeping: the phases seen, whether bytes never went back, whether it ended at 100%. */
function progressRecorder() {
  const events: LoadProgressEvent[] = [];
  return {
    onProgress: (event: LoadProgressEvent) => events.push(event),
    summary() {
      const phases = [...new Set(events.map((event) => event.phase))];
      let monotonic = true;
      const last = new Map<string, number>();
      for (const event of events) {
        const stage = event.phase === 'download' || event.phase === 'cache-read' ? 'fetch' : event.phase;
        if ((last.get(stage) ?? 0) > event.loaded) monotonic = false;
        last.set(stage, event.loaded);
      }
      const fetches = events.filter((event) => event.phase === 'download' || event.phase === 'cache-read');
      const final = fetches.at(-1);
      return { phases, progressMonotonic: monotonic, progressComplete: final !== undefined && final.loaded === final.total };
    },
  };
}

/** `numThreads` unset leaves ORT's choice (half the cores, at most 4, when isolated). */
function loadOptions(device: 'wasm' | 'webgpu', onProgress: (event: LoadProgressEvent) => void, numThreads?: number) {
  return { device, dtype: 'fp32' as const, backendOptions: { wasmPaths: ORT_FILES, ...(numThreads ? { numThreads } : {}) }, onProgress };
}

async function runInThread(modelUrl: string, device: 'wasm' | 'webgpu', numThreads?: number): Promise<PageRun> {
  const progress = progressRecorder();
  const model = await UniPic.load(modelUrl, loadOptions(device, progress.onProgress, numThreads));
  const modelEvents: string[] = [];
  const sessionMilliseconds: Record<string, number> = {};
  model.on('run-end', (info) => modelEvents.push(`${info.capability}:${info.outcome}`));
  model.on('session-create', (info) => (sessionMilliseconds[info.graph] = info.ms));
  try {
    const outcomes = await runCalls(model as unknown as CallableModel, await inputImage());
    return { outcomes, device: model.backendInfo.device, loadWarnings: model.loadWarnings, modelEvents, sessionMilliseconds, ...progress.summary() };
  } finally {
    await model.dispose();
  }
}

async function runInWorker(modelUrl: string, device: 'wasm' | 'webgpu', numThreads?: number): Promise<PageRun> {
  const worker = new Worker(WORKER_SCRIPT, { type: 'module' });
  try {
    const progress = progressRecorder();
    const model = await createWorkerModel(worker, modelUrl, loadOptions(device, progress.onProgress, numThreads));
    const modelEvents: string[] = [];
    const sessionMilliseconds: Record<string, number> = {};
    model.on('run-end', (info) => modelEvents.push(`${info.capability}:${info.outcome}`));
    model.on('session-create', (info) => (sessionMilliseconds[info.graph] = info.ms));
    const outcomes = await runCalls(model as unknown as CallableModel, await inputImage());
    const result = { outcomes, device: model.backendInfo.device, loadWarnings: model.loadWarnings, modelEvents, sessionMilliseconds, ...progress.summary() };
    await model.dispose();
    return result;
  } finally {
    worker.terminate();
  }
}

/**
 * Start a long generate in the worker, abort it from the page after its first iteration, then
 * check the worker is free: a second call completes.
 */
async function abortInWorker(modelUrl: string) {
  const worker = new Worker(WORKER_SCRIPT, { type: 'module' });
  try {
    const model = await createWorkerModel(
      worker,
      modelUrl,
      loadOptions('wasm', () => undefined),
    );
    const ends: string[] = [];
    model.on('run-end', (info) => ends.push(info.outcome));
    const controller = new AbortController();
    const run = model.generate({ prompt: 'a long one', size: 128, steps: 64, diffusionSteps: 50, seed: 3, signal: controller.signal });
    let iterations = 0;
    let abortedAt = 0;
    let error: unknown;
    try {
      for await (const event of run) {
        if (event.type === 'step-finish' && ++iterations === 1) {
          abortedAt = performance.now();
          controller.abort(new DOMException('cancel pressed', 'AbortError'));
        }
      }
    } catch (caught) {
      error = caught;
    }
    const stoppedAfterMs = performance.now() - abortedAt;
    const after = model.generate({ prompt: 'after the abort', size: 64, steps: 2, diffusionSteps: 4, seed: 1 });
    const afterImages = (await after.result).images.length;
    await model.dispose();
    return {
      iterations,
      stoppedAfterMs,
      errorName: (error as Error | undefined)?.name,
      errorCode: UniPicError.isInstance(error) ? error.code : undefined,
      errorMessage: (error as Error | undefined)?.message,
      ends,
      afterImages,
    };
  } finally {
    worker.terminate();
  }
}

/** Region editing in the page: a Blob mask, and a bad mask's typed error. */
async function regionInPage(modelUrl: string): Promise<RegionOutcome> {
  const model = await UniPic.load(
    modelUrl,
    loadOptions('wasm', () => undefined, 2),
  );
  try {
    return await runRegion(model as unknown as Parameters<typeof runRegion>[0], await inputImage());
  } finally {
    await model.dispose();
  }
}

/** The same region call through a worker: the Blob mask crosses by structured clone. */
async function regionInWorker(modelUrl: string): Promise<RegionOutcome> {
  const worker = new Worker(WORKER_SCRIPT, { type: 'module' });
  try {
    const model = await createWorkerModel(
      worker,
      modelUrl,
      loadOptions('wasm', () => undefined, 2),
    );
    const outcome = await runRegion(model as unknown as Parameters<typeof runRegion>[0], await inputImage());
    await model.dispose();
    return outcome;
  } finally {
    worker.terminate();
  }
}

/** The model's files in the Cache API: present after a load, gone after clear(). */
async function cacheState(modelUrl: string) {
  const manifest = await (await fetch(new URL('unipic.json', modelUrl))).json();
  const cache = new CacheApiCache({ key: modelUrl });
  const files = (manifest.files as { path: string; size: number; sha256: string }[]) ?? [];
  const present = await Promise.all(files.map((entry) => cache.has(entry as never)));
  return { files: files.length, present: present.filter(Boolean).length, storage: await estimateStorage() };
}

interface ErrorReport {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly uniPic: boolean;
  readonly className?: string;
}

function report(error: unknown): ErrorReport {
  const known = [ModelNotFoundError, InvalidInputError].find((errorClass) => error instanceof errorClass);
  return {
    name: (error as Error | undefined)?.name,
    code: UniPicError.isInstance(error) ? error.code : undefined,
    message: (error as Error | undefined)?.message,
    uniPic: UniPicError.isInstance(error),
    ...(known ? { className: known.name } : {}),
  };
}

async function failureOf(promise: Promise<unknown>): Promise<ErrorReport | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return report(error);
  }
}

/**
 * The same failures in the page and through a worker: each error must come back as the same
 * class, code and message. Plus the failure only a worker has: its script does not load.
 */
async function compareErrors(modelUrl: string) {
  const missing = new URL('../no-such-model/', modelUrl).href;
  const notAnImage = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const options = loadOptions('wasm', () => undefined);

  const inPage = {
    missingModel: await failureOf(UniPic.load(missing, options)),
    badImage: undefined as ErrorReport | undefined,
  };
  const model = await UniPic.load(modelUrl, options);
  inPage.badImage = await failureOf(model.understand({ image: notAnImage, maxTokens: 1 }).result);
  await model.dispose();

  const worker = new Worker(WORKER_SCRIPT, { type: 'module' });
  const inWorker = {
    missingModel: await failureOf(createWorkerModel(worker, missing, options)),
    badImage: undefined as ErrorReport | undefined,
  };
  const remote = await createWorkerModel(worker, modelUrl, options);
  inWorker.badImage = await failureOf(remote.understand({ image: notAnImage, maxTokens: 1 }).result);
  await remote.dispose();
  worker.terminate();

  const deadWorker = await failureOf(createWorkerModel(new Worker('/no-such-worker.js', { type: 'module' }), modelUrl, options));
  return { inPage, inWorker, deadWorker };
}

/** Load without running anything (sessions are lazy) and report where the bytes came from. */
async function loadOnly(modelUrl: string) {
  const progress = progressRecorder();
  const model = await UniPic.load(modelUrl, loadOptions('wasm', progress.onProgress));
  await model.dispose();
  return progress.summary();
}

async function clearCache(modelUrl: string): Promise<void> {
  await new CacheApiCache({ key: modelUrl }).clear();
}

Object.assign(globalThis, {
  regionInPage,
  regionInWorker,
  compareErrors,
  loadOnly,
  runInThread,
  runInWorker,
  abortInWorker,
  cacheState,
  clearCache,
  probeBrowser,
  pageReady: true,
});
