import { probeBrowser, UniPicError, type ImageResult, type ImageRunEvent, type LoadProgressEvent, type Run } from 'unipic';
import { createWorkerModel, type WorkerModel } from 'unipic/worker';
// onnxruntime-web's WebAssembly binary, emitted by Vite as a hashed asset. The worker fetches it
// from this URL (the `wasmPaths` setting), so nothing depends on where the bundler put ORT's code.
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import { numberFrom, offerDownload, paint, setStatus, showWarnings, view } from './view.js';

/** A folder written by `unipic convert`, on any static server (same origin, or CORS enabled). */
const DEFAULT_MODEL_URL = '/models/unipic/';

const worker = new Worker(new URL('./unipic-worker.ts', import.meta.url), { type: 'module' });
let model: WorkerModel | undefined;
let image: File | undefined;
let current: { abort(reason?: unknown): void } | undefined;
/** What the app itself decided at load (shown with the model's load warnings). */
let loadNotes: { code: string; message: string }[] = [];

view.modelUrl.value = new URLSearchParams(location.search).get('model') ?? DEFAULT_MODEL_URL;

function describe(error: unknown): string {
  return UniPicError.isInstance(error) ? `${error.message} (${error.code})` : error instanceof Error ? error.message : String(error);
}

function isAbort(error: unknown): boolean {
  return UniPicError.isInstance(error) && error.code === 'ABORTED';
}

function setBusy(busy: boolean): void {
  const ready = model !== undefined && !busy;
  view.ask.disabled = !ready || !image || !model?.capabilities.includes('understand');
  view.generate.disabled = !ready || !model?.capabilities.includes('generate');
  view.edit.disabled = !ready || !image || !model?.capabilities.includes('edit');
  view.load.disabled = busy;
  view.cancel.disabled = !busy;
}

function showLoadProgress(event: LoadProgressEvent): void {
  view.loadProgress.value = event.total ? event.loaded / event.total : 0;
  const what = event.phase === 'session-create' ? `preparing ${event.file}` : `${event.phase} ${event.file}`;
  setStatus(view.loadStatus, 'loading', `${what} — ${Math.round(100 * view.loadProgress.value)}%`);
}

type DeviceChoice = { device: 'auto' | 'webgpu' | 'wasm'; note?: { code: string; message: string } };

/**
 * `auto` would take WebGPU whenever the browser offers it, but a software adapter (SwiftShader,
 * WARP: what a machine without a GPU gets) is several times slower than wasm for this model
 * (docs/browser.md has the measurements). The app asks the probe first and picks wasm then.
 */
async function chooseDevice(): Promise<DeviceChoice> {
  const requested = view.device.value as DeviceChoice['device'];
  if (requested !== 'auto') return { device: requested };
  const capabilities = await probeBrowser();
  if (!capabilities.webgpu.fallbackAdapter) return { device: 'auto' };
  const message = 'WebGPU here is a software adapter (no GPU), much slower than wasm: using wasm. Choose WebGPU to use it anyway.';
  return { device: 'wasm', note: { code: 'software-webgpu', message } };
}

async function load(): Promise<void> {
  setBusy(true);
  view.cancel.disabled = true;
  await model?.dispose();
  model = undefined;
  setStatus(view.loadStatus, 'loading', 'loading…');
  try {
    const choice = await chooseDevice();
    model = await createWorkerModel(worker, view.modelUrl.value, {
      device: choice.device,
      // Create every session now, so the progress bar covers it and the first call starts at once.
      eager: true,
      backendOptions: { wasmPaths: { wasm: ortWasmUrl } },
      onProgress: showLoadProgress,
    });
    view.size.replaceChildren(...model.manifest.resolutions.map((resolution) => new Option(`${resolution.size} px`, String(resolution.size))));
    // The smallest size: the native one for UniPic (512), and the quickest without a GPU.
    view.size.value = String(Math.min(...model.manifest.resolutions.map((resolution) => resolution.size)));
    loadNotes = choice.note ? [choice.note] : [];
    showWarnings([...loadNotes, ...model.loadWarnings]);
    view.loadProgress.value = 1;
    setStatus(view.loadStatus, 'ready', `ready on ${model.backendInfo.device} (${model.capabilities.join(', ')})`);
  } catch (error) {
    setStatus(view.loadStatus, 'error', describe(error));
  } finally {
    setBusy(false);
  }
}

function imageSettings() {
  const steps = numberFrom(view.steps) ?? 32;
  const seed = numberFrom(view.seed);
  return {
    size: Number(view.size.value),
    steps,
    diffusionSteps: numberFrom(view.diffusionSteps) ?? 100,
    guidance: numberFrom(view.guidance) ?? 3,
    // A preview costs one VAE decode: four per run is plenty.
    preview: Math.max(1, Math.floor(steps / 4)),
    ...(seed !== undefined ? { seed } : {}),
  };
}

async function followImageRun(run: Run<ImageRunEvent, ImageResult>): Promise<void> {
  current = run;
  setBusy(true);
  view.runProgress.value = 0;
  setStatus(view.runStatus, 'running', 'starting…');
  try {
    for await (const event of run) {
      if (event.type === 'step-finish') {
        view.runProgress.value = (event.iteration + 1) / event.iterations;
        setStatus(view.runStatus, 'running', `step ${event.iteration + 1} of ${event.iterations}`);
      } else if (event.type === 'image-preview') {
        paint(event.images[0]);
      } else if (event.type === 'warning') {
        showWarnings([...loadNotes, ...(model?.loadWarnings ?? []), event]);
      }
    }
    const result = await run.result;
    paint(result.images[0]);
    offerDownload(result.images[0].toBlob());
    setStatus(view.runStatus, 'done', `done in ${(result.timings.totalMs / 1000).toFixed(1)} s (seed ${result.seed})`);
  } catch (error) {
    if (isAbort(error)) setStatus(view.runStatus, 'cancelled', 'cancelled');
    else setStatus(view.runStatus, 'error', describe(error));
  } finally {
    current = undefined;
    setBusy(false);
  }
}

async function ask(): Promise<void> {
  if (!model || !image) return;
  // The settings' size is the side the image is resized to before the model reads it.
  const run = model.understand({
    image,
    prompt: view.question.value,
    size: Number(view.size.value),
    // The answer stops here at the latest: each token is one LLM step, slow without a GPU.
    maxTokens: numberFrom(view.maxTokens) ?? 64,
  });
  current = run;
  setBusy(true);
  view.answer.textContent = '';
  view.runProgress.removeAttribute('value'); // indeterminate: the answer's length is unknown
  setStatus(view.runStatus, 'running', 'reading the image…');
  try {
    for await (const event of run) {
      if (event.type === 'text-delta') {
        view.answer.textContent += event.delta;
        setStatus(view.runStatus, 'running', 'answering…');
      }
    }
    const result = await run.result;
    view.runProgress.value = 1;
    setStatus(view.runStatus, 'done', `answered in ${(result.timings.totalMs / 1000).toFixed(1)} s (${result.usage.completionTokens} tokens)`);
  } catch (error) {
    view.runProgress.value = 0;
    if (isAbort(error)) setStatus(view.runStatus, 'cancelled', 'cancelled');
    else setStatus(view.runStatus, 'error', describe(error));
  } finally {
    current = undefined;
    setBusy(false);
  }
}

view.load.addEventListener('click', () => void load());
view.imageFile.addEventListener('change', () => {
  image = view.imageFile.files?.[0];
  if (view.imagePreview.src) URL.revokeObjectURL(view.imagePreview.src);
  if (image) view.imagePreview.src = URL.createObjectURL(image);
  else view.imagePreview.removeAttribute('src');
  setBusy(current !== undefined);
});
view.ask.addEventListener('click', () => void ask());
view.generate.addEventListener('click', () => {
  if (model) void followImageRun(model.generate({ prompt: view.prompt.value, ...imageSettings() }));
});
view.edit.addEventListener('click', () => {
  if (model && image) void followImageRun(model.edit({ image, prompt: view.instruction.value, ...imageSettings() }));
});
// The worker stops at its next graph boundary; the run then rejects with an AbortError.
view.cancel.addEventListener('click', () => current?.abort('cancelled by the user'));
