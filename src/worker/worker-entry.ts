/**
 * `unipic/worker`: run a model in a Web Worker so generation never blocks the page.
 *
 * In the worker (your own module, bundled by your bundler):
 *   import { exposeUniPic } from 'unipic/worker';
 *   exposeUniPic();
 * On the page:
 *   const worker = new Worker(new URL('./unipic-worker.js', import.meta.url), { type: 'module' });
 *   const model = await createWorkerModel(worker, 'https://example.com/unipic-tiny/');
 *   for await (const event of model.generate({ prompt: 'a red fox' })) …
 *
 * When this module is itself the worker's entry file, it starts serving on import (the call
 * above is then a no-op).
 */
import { UniPic } from '../index.browser.js';
import type { LoadOptions } from '../core/model/load-options.js';
import { browserPlatform } from '../platform/browser-platform.js';
import type { MessageEndpoint } from './protocol.js';
import { serveModel, type HostedModel } from './worker-host.js';

export { createWorkerModel, WorkerModel } from './worker-client.js';
export { serveModel, type HostedModel, type HostedModelLoader } from './worker-host.js';
export { WORKER_PROTOCOL_VERSION, type MessageEndpoint, type ModelDescription, type WorkerRequest, type WorkerResponse } from './protocol.js';

const serving = new WeakMap<object, () => Promise<void>>();

/**
 * Serve `UniPic` models to the page over `endpoint` (default: this worker's global scope).
 * Calling it again on the same endpoint does nothing more. Returns a function that stops
 * serving (disposing the model).
 */
export function exposeUniPic(endpoint: MessageEndpoint = globalThis as unknown as MessageEndpoint): () => Promise<void> {
  const existing = serving.get(endpoint);
  if (existing) return existing;
  const stop = serveModel(endpoint, loadInWorker);
  const stopOnce = async () => {
    serving.delete(endpoint);
    await stop();
  };
  serving.set(endpoint, stopOnce);
  return stopOnce;
}

/**
 * `UniPic.load` in the worker. The core yields to the event loop between ORT runs
 * (src/core/run/yield-to-event-loop.ts), so the page's abort messages are read while a call runs.
 * The page can only name an adapter (a Backend object cannot cross), so the backend is ours to free.
 */
async function loadInWorker(source: unknown, options: LoadOptions): Promise<HostedModel> {
  const adapter = typeof options.backend === 'string' ? options.backend : undefined;
  const backend = await browserPlatform.createBackend(adapter);
  let model: UniPic;
  try {
    model = await UniPic.load(source, { ...options, backend });
  } catch (error) {
    await backend.dispose();
    throw error;
  }
  return {
    manifest: model.manifest,
    capabilities: model.capabilities,
    backendInfo: model.backendInfo,
    dtypes: model.dtypes,
    loadWarnings: model.loadWarnings,
    generate: (callOptions) => model.generate(callOptions),
    understand: (callOptions) => model.understand(callOptions),
    edit: (callOptions) => model.edit(callOptions),
    on: (name, listener) => model.on(name, listener),
    async dispose() {
      await model.dispose();
      await backend.dispose();
    },
  };
}

/** True when this module is the script a dedicated worker was started with. */
function isWorkerScript(): boolean {
  const scope = globalThis as { WorkerGlobalScope?: abstract new () => unknown; location?: { href: string }; postMessage?: unknown; name?: string };
  if (typeof scope.WorkerGlobalScope !== 'function' || !(globalThis instanceof scope.WorkerGlobalScope)) return false;
  // onnxruntime-web's wasm threads start workers from its own (possibly our bundled) script.
  if (scope.name === 'em-pthread') return false;
  if (typeof scope.postMessage !== 'function' || !scope.location) return false;
  const here = new URL(import.meta.url);
  const script = new URL(scope.location.href);
  return here.origin === script.origin && here.pathname === script.pathname;
}

if (isWorkerScript()) exposeUniPic();
