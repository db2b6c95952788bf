import { EventEmitter } from 'eventemitter3';
import { throwIfAborted, toAbortError } from '../errors/abort-error.js';
import { DisposedError } from '../errors/disposed-error.js';
import { UniPicError } from '../errors/unipic-error.js';
import type { GeneratedImage } from '../core/image/generated-image.js';
import type { ImageRunEvent } from '../core/generation/events.js';
import type { ImageResult } from '../families/unipic1/generation/image-result.js';
import { loadOptionsSchema, type LoadOptions } from '../core/model/load-options.js';
import type { UniPicEvents } from '../core/model/model-events.js';
import type { EditOptions } from '../families/unipic1/options/edit-options.js';
import type { GenerateOptions } from '../families/unipic1/options/generate-options.js';
import type { UnderstandOptions } from '../families/unipic1/options/understand-options.js';
import { familyOf, registeredFamilies } from '../core/family/family-registry.js';
import { UnsupportedTaskError } from '../errors/unsupported-task-error.js';
import { validate } from '../core/options/validate.js';
import { Run } from '../core/run/run.js';
import type { TextRunEvent, UnderstandResult } from '../core/understanding/events.js';
import type { BackendInfo } from '../spec/backend.js';
import { DEFAULT_FAMILY, type Capability, type Dtype, type GraphName, type Manifest } from '../spec/manifest.js';
import type { ModelConfig } from '../families/unipic1/manifest.js';
import { MODEL_METHODS, type MessageEndpoint, type ModelDescription, type ModelMethod } from './protocol.js';
import { WorkerConnection } from './worker-connection.js';
import { prepareCallOptions, prepareLoadOptions, prepareSource, refuseUncrossable } from './worker-inputs.js';
import { fromWire } from './wire-values.js';

export type { GeneratedImage };

/**
 * A model living in a worker, with the in-page model's interface: the same calls returning the
 * same runs (events as the worker produces them, `result`, `abort`, `break`), the same events on
 * the emitter, the same typed errors. Generated pixels arrive as transferred buffers.
 */
export class WorkerModel extends EventEmitter<UniPicEvents> {
  readonly manifest: Manifest;
  readonly config: ModelConfig;
  readonly capabilities: readonly Capability[];
  /** The tasks the model's family offers (see `UniPicModel.familyTasks`). */
  readonly familyTasks: readonly Capability[];
  readonly family: string;
  readonly backendInfo: BackendInfo;
  readonly dtypes: Readonly<Partial<Record<GraphName, Dtype>>>;
  readonly loadWarnings: readonly { code: string; message: string }[];
  private isDisposed = false;
  private readonly active = new Set<Run<{ type: string }, unknown>>();

  /** @internal Use `createWorkerModel()`. */
  constructor(
    private readonly connection: WorkerConnection,
    description: ModelDescription,
  ) {
    super();
    this.manifest = description.manifest;
    this.config = (description.manifest.config ?? {}) as ModelConfig;
    this.capabilities = description.capabilities;
    this.familyTasks = description.familyTasks ?? MODEL_METHODS;
    this.family = description.manifest.family ?? DEFAULT_FAMILY;
    this.backendInfo = description.backendInfo;
    this.dtypes = description.dtypes;
    this.loadWarnings = description.loadWarnings;
    connection.onModelEvent = (name, args) => {
      (this.emit as (name: string, ...args: unknown[]) => boolean)(name, ...(fromWire(args) as unknown[]));
    };
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  /** Calls started and not yet settled (waiting in the worker's queue or running). */
  get pendingCalls(): number {
    return this.active.size;
  }

  generate(options: GenerateOptions): Run<ImageRunEvent, ImageResult> {
    return this.call('generate', options);
  }

  edit(options: EditOptions): Run<ImageRunEvent, ImageResult> {
    return this.call('edit', options);
  }

  understand(options: UnderstandOptions): Run<TextRunEvent, UnderstandResult> {
    return this.call('understand', options);
  }

  private call<Event extends { type: string }, Result>(method: ModelMethod, options: object): Run<Event, Result> {
    if (!this.familyTasks.includes(method)) {
      throw new UnsupportedTaskError(`a ${this.family} model cannot ${method} (its family offers: ${this.familyTasks.join(', ') || 'nothing'})`, {
        details: { task: method, family: this.family, capabilities: this.capabilities },
      });
    }
    if (this.isDisposed) throw new DisposedError('this model was disposed');
    // Checked here as the in-page model does, so bad options throw from the call, not later: with
    // the family's schema when the page knows the family (the worker checks again either way).
    const schema = registeredFamilies().includes(this.family) ? familyOf(this.manifest).tasks[method]?.options : undefined;
    if (schema) validate(schema, options, method);
    refuseUncrossable(options as Record<string, unknown>);
    if (!this.capabilities.includes(method)) {
      throw new UniPicError('CAPABILITY_UNAVAILABLE', `this model was not loaded for ${method} (capabilities: ${this.capabilities.join(', ')})`);
    }
    const signal = (options as { signal?: AbortSignal }).signal;
    const run = new Run<Event, Result>(async (controller) => {
      const prepared = await prepareCallOptions(options as Record<string, unknown>);
      throwIfAborted(controller.signal);
      return new Promise<Result>((resolve, reject) => {
        let id = 0;
        const onAbort = () => this.connection.abort(id, controller.signal.reason);
        const settle = () => controller.signal.removeEventListener('abort', onAbort);
        id = this.connection.request(
          { kind: 'call', method, options: prepared },
          {
            onEvent: (event) => controller.emit(fromWire(event) as Event),
            onResult: (result) => {
              settle();
              resolve(fromWire(result) as Result);
            },
            onError: (error) => {
              settle();
              reject(error);
            },
          },
        );
        controller.signal.addEventListener('abort', onAbort, { once: true });
      });
    }, signal);
    const tracked = run as Run<{ type: string }, unknown>;
    this.active.add(tracked);
    const forget = () => this.active.delete(tracked);
    run.result.then(forget, forget);
    return run;
  }

  /** Abort every call, dispose the model inside the worker, stop listening. The worker itself stays yours to `terminate()`. */
  async dispose(): Promise<void> {
    if (this.isDisposed) return;
    this.isDisposed = true;
    const runs = [...this.active];
    await new Promise<void>((resolve) => {
      this.connection.request({ kind: 'dispose' }, { onDisposed: resolve, onError: () => resolve() });
    });
    await Promise.all(runs.map((run) => run.result.catch(() => undefined)));
    this.connection.close();
    this.emit('dispose');
    this.removeAllListeners();
  }
}

/**
 * Load a model inside `worker` (a module Worker running `exposeUniPic()`, or any MessagePort
 * served by it) and return its page-side handle. `source` is a URL or a file map; `signal` and
 * `onProgress` work as with `UniPic.load`.
 */
export async function createWorkerModel(worker: MessageEndpoint, source: unknown, options: LoadOptions = {}): Promise<WorkerModel> {
  const parsed = validate(loadOptionsSchema, options, 'load');
  throwIfAborted(parsed.signal);
  const prepared = { source: prepareSource(source), options: prepareLoadOptions(options) };
  const connection = new WorkerConnection(worker);
  try {
    return await new Promise<WorkerModel>((resolve, reject) => {
      const signal = parsed.signal;
      let id = 0;
      const onAbort = () => connection.abort(id, signal?.reason ?? toAbortError(undefined));
      const settle = () => signal?.removeEventListener('abort', onAbort);
      id = connection.request(
        { kind: 'load', source: prepared.source, options: prepared.options, progress: parsed.onProgress !== undefined },
        {
          onProgress: (progress) => parsed.onProgress?.(progress),
          onLoaded: (description) => {
            settle();
            resolve(new WorkerModel(connection, description));
          },
          onError: (error) => {
            settle();
            reject(error);
          },
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  } catch (error) {
    connection.close();
    throw error;
  }
}
