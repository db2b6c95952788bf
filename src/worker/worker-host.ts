import { AbortError, toAbortError } from '../errors/abort-error.js';
import { UniPicError } from '../errors/unipic-error.js';
import type { UniPicEvents } from '../core/model/model-events.js';
import type { LoadOptions } from '../core/model/load-options.js';
import type { LoadProgressEvent } from '../spec/progress.js';
import {
  isProtocolMessage,
  MODEL_METHODS,
  tag,
  WORKER_PROTOCOL_VERSION,
  type MessageEndpoint,
  type ModelDescription,
  type ModelMethod,
  type WorkerRequest,
  type WorkerResponse,
} from './protocol.js';
import { deserializeError, serializeError } from './wire-errors.js';
import { toWire } from './wire-values.js';

/** The run a model call returns, as far as the host uses it. */
interface HostedRun {
  readonly result: Promise<unknown>;
  abort(reason?: unknown): void;
  [Symbol.asyncIterator](): AsyncIterator<unknown>;
}

/** What the host needs of a loaded model (`UniPicModel` has all of it). */
export interface HostedModel extends ModelDescription {
  generate?(options: never): HostedRun;
  understand?(options: never): HostedRun;
  edit?(options: never): HostedRun;
  on<Name extends keyof UniPicEvents>(name: Name, listener: (...args: UniPicEvents[Name]) => void): unknown;
  dispose(): Promise<void>;
}

export type HostedModelLoader = (source: unknown, options: LoadOptions) => Promise<HostedModel>;

const FORWARDED_MODEL_EVENTS: readonly (keyof UniPicEvents)[] = ['warning', 'session-create', 'session-release', 'run-start', 'run-end'];

/**
 * Serve one model over a message endpoint (the worker's global scope, or a MessagePort): load it
 * on request, run its calls, push their events as they happen, and stop a load or call when the
 * page aborts it. Returns a function that stops listening (the model is disposed first).
 */
export function serveModel(endpoint: MessageEndpoint, loadModel: HostedModelLoader): () => Promise<void> {
  let model: HostedModel | undefined;
  let loading: number | undefined;
  const aborters = new Map<number, (reason: AbortError) => void>();

  const post = (message: Parameters<typeof tag<WorkerResponse>>[0], transfer: Transferable[] = []) => {
    endpoint.postMessage(tag<WorkerResponse>(message), transfer);
  };
  const fail = (id: number, error: unknown) => post({ kind: 'error', id, error: serializeError(error) });

  async function load(request: Extract<WorkerRequest, { kind: 'load' }>): Promise<void> {
    if (model || loading !== undefined) {
      throw new UniPicError('WORKER_BUSY', 'this worker already serves a model: dispose it first, or start another worker');
    }
    const controller = new AbortController();
    aborters.set(request.id, (reason) => controller.abort(reason));
    loading = request.id;
    try {
      const onProgress = request.progress ? (progress: LoadProgressEvent) => post({ kind: 'progress', id: request.id, progress }) : undefined;
      const loaded = await loadModel(request.source, { ...request.options, signal: controller.signal, ...(onProgress ? { onProgress } : {}) } as LoadOptions);
      if (controller.signal.aborted) {
        await loaded.dispose();
        throw toAbortError(controller.signal.reason);
      }
      model = loaded;
      for (const name of FORWARDED_MODEL_EVENTS) {
        loaded.on(name, (...args: unknown[]) => {
          const wire = toWire(args);
          post({ kind: 'model-event', name, args: wire.value as unknown[] }, wire.transfer);
        });
      }
      const description: ModelDescription = {
        manifest: loaded.manifest,
        capabilities: loaded.capabilities,
        ...(loaded.familyTasks ? { familyTasks: loaded.familyTasks } : {}),
        backendInfo: loaded.backendInfo,
        dtypes: loaded.dtypes,
        loadWarnings: loaded.loadWarnings,
      };
      post({ kind: 'loaded', id: request.id, model: toWire(description).value as ModelDescription });
    } finally {
      loading = undefined;
      aborters.delete(request.id);
    }
  }

  async function call(id: number, method: ModelMethod, options: Record<string, unknown>): Promise<void> {
    if (!model) throw new UniPicError('NO_MODEL', 'no model is loaded in this worker');
    if (!MODEL_METHODS.includes(method) || typeof model[method] !== 'function') {
      throw new UniPicError('CAPABILITY_UNAVAILABLE', `this model has no ${String(method)}()`);
    }
    const run = (model[method] as (options: Record<string, unknown>) => HostedRun)(options);
    aborters.set(id, (reason) => run.abort(reason));
    try {
      // Events go out as they come; the iterator ends (or throws) when the run settles.
      for await (const event of run) {
        const wire = toWire(event);
        post({ kind: 'event', id, event: wire.value }, wire.transfer);
      }
      const wire = toWire(await run.result);
      post({ kind: 'result', id, result: wire.value }, wire.transfer);
    } finally {
      aborters.delete(id);
    }
  }

  async function dispose(id: number): Promise<void> {
    const current = model;
    model = undefined;
    await current?.dispose();
    post({ kind: 'disposed', id });
  }

  function handle(request: WorkerRequest): void {
    if (request.version !== WORKER_PROTOCOL_VERSION) {
      fail(
        request.id,
        new UniPicError(
          'WORKER_PROTOCOL',
          `the page speaks worker protocol ${request.version}, this worker ${WORKER_PROTOCOL_VERSION}: load both from the same unipic build`,
        ),
      );
      return;
    }
    switch (request.kind) {
      case 'load':
        load(request).catch((error: unknown) => fail(request.id, error));
        return;
      case 'call':
        call(request.id, request.method, { ...request.options }).catch((error: unknown) => fail(request.id, error));
        return;
      case 'abort':
        aborters.get(request.id)?.(request.reason ? toAbortError(deserializeError(request.reason)) : new AbortError('The run was aborted from the page'));
        return;
      case 'dispose':
        dispose(request.id).catch((error: unknown) => fail(request.id, error));
        return;
    }
  }

  const listener = (event: MessageEvent) => {
    if (isProtocolMessage(event.data) && 'kind' in event.data && ['load', 'call', 'abort', 'dispose'].includes(event.data.kind)) {
      handle(event.data as WorkerRequest);
    }
  };
  endpoint.addEventListener('message', listener);
  // A MessagePort delivers nothing to addEventListener listeners until started.
  (endpoint as { start?: () => void }).start?.();
  return async () => {
    endpoint.removeEventListener('message', listener);
    for (const abort of aborters.values()) abort(new AbortError('the worker stopped serving'));
    await model?.dispose();
    model = undefined;
  };
}
