// The page of bench/browser-full-size.ts: loads a model folder through the worker entry, as an
// application would, and runs one call. Everything it learns goes to globalThis.fullSizeState so
// the driver can read how far a step got even when the step is cut by its timeout.
import { createWorkerModel } from 'unipic/worker';
import { estimateStorage } from 'unipic';

export interface StepRequest {
  readonly modelUrl: string;
  readonly device: 'wasm' | 'webgpu';
  readonly dtype: 'q4' | 'q4f16' | 'fp16' | 'fp32';
  readonly task: 'load' | 'understand' | 'generate';
  readonly size: number;
  /** MAR iterations (generate). */
  readonly steps: number;
  /** Diffusion steps per MAR iteration (generate): few, since each one only repeats the head. */
  readonly diffusionSteps: number;
  readonly maxTokens: number;
  /** WebAssembly threads (`numThreads`); absent: ORT's default (half the cores, here 1). */
  readonly threads?: number;
  /** generate: classifier-free guidance scale (1 runs the conditional row only). */
  readonly guidance?: number;
}

export interface StepState {
  phase: string;
  loadMs?: number;
  callMs?: number;
  loadedBytes?: number;
  device?: string;
  fp16?: boolean;
  dtypes?: Record<string, string>;
  loadWarnings?: string[];
  warnings?: string[];
  storageUsage?: number;
  tokens?: number;
  timings?: Record<string, unknown>;
  events: string[];
  error?: { name: string; code?: string; message: string; details?: unknown };
}

const state: { current?: StepState } = {};
(globalThis as unknown as { fullSizeState: typeof state }).fullSizeState = state;

async function runStep(request: StepRequest): Promise<StepState> {
  const step: StepState = { phase: 'load', events: [] };
  state.current = step;
  const worker = new Worker('/worker.js', { type: 'module' });
  const started = performance.now();
  try {
    const model = await createWorkerModel(worker, request.modelUrl, {
      device: request.device,
      dtype: request.dtype,
      // `load` creates every session up front: that is where graph size limits show.
      eager: request.task === 'load',
      backendOptions: { wasmPaths: new URL('/ort/', location.href).href, ...(request.threads ? { numThreads: request.threads } : {}) },
      onProgress: (event) => {
        if (event.phase === 'download' || event.phase === 'cache-read') step.loadedBytes = event.loaded;
      },
    });
    step.loadMs = Math.round(performance.now() - started);
    step.device = model.backendInfo.device;
    step.fp16 = model.backendInfo.fp16;
    step.dtypes = { ...model.dtypes } as Record<string, string>;
    step.loadWarnings = model.loadWarnings.map((w) => `${w.code}: ${w.message}`);
    model.on('warning', (w) => step.events.push(`warning ${w.code}`));
    model.on('session-create', (info) => step.events.push(`session ${info.graph} ${Math.round(info.ms)} ms`));
    step.storageUsage = (await estimateStorage()).usage;
    const callStarted = performance.now();
    if (request.task === 'understand') {
      step.phase = 'understand';
      const image = { data: new Uint8Array(request.size * request.size * 3).fill(128), width: request.size, height: request.size, channels: 3 as const };
      const run = model.understand({ image, size: request.size, maxTokens: request.maxTokens, repetitionPenalty: 1 });
      for await (const event of run) step.events.push(`${event.type} ${Math.round(performance.now() - callStarted)} ms`);
      const result = await run.result;
      step.tokens = result.tokens.length;
      step.timings = { ...result.timings };
    } else if (request.task === 'generate') {
      step.phase = 'generate';
      const run = model.generate({
        prompt: 'a lighthouse at dusk',
        size: request.size,
        steps: request.steps,
        diffusionSteps: request.diffusionSteps,
        seed: 1,
        ...(request.guidance ? { guidance: request.guidance } : {}),
      });
      for await (const event of run) step.events.push(`${event.type} ${Math.round(performance.now() - callStarted)} ms`);
      const result = await run.result;
      step.timings = { ...result.timings };
    }
    step.callMs = Math.round(performance.now() - callStarted);
    step.phase = 'dispose';
    await model.dispose();
    step.phase = 'done';
  } catch (error) {
    const e = error as { name?: string; code?: string; message?: string; details?: unknown };
    step.error = { name: e.name ?? 'Error', code: e.code, message: String(e.message ?? error).slice(0, 600), details: e.details };
    step.events.push(`error after ${Math.round(performance.now() - started)} ms in ${step.phase}`);
  } finally {
    worker.terminate();
    // A refused load should leave the Cache API empty: measured on every outcome.
    step.storageUsage ??= (await estimateStorage()).usage;
  }
  return step;
}

(globalThis as unknown as { runStep: typeof runStep }).runStep = runStep;
(globalThis as unknown as { pageReady: boolean }).pageReady = true;
