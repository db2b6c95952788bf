import { EventEmitter } from 'eventemitter3';
import { AbortError, throwIfAborted, toAbortError } from '../../errors/abort-error.js';
import { DisposedError } from '../../errors/disposed-error.js';
import { UniPicError } from '../../errors/unipic-error.js';
import { UnsupportedTaskError } from '../../errors/unsupported-task-error.js';
import type { BackendInfo } from '../../spec/backend.js';
import type { Capability, Dtype, GraphName, Manifest } from '../../spec/manifest.js';
import { registerFamily } from '../family/family-registry.js';
import type { CallMemory, FamilyAssets, ModelFamily } from '../family/model-family.js';
import { graphSetBytes } from './file-limits.js';
import type { ImageRunEvent } from '../generation/events.js';
import { validate } from '../options/validate.js';
import type { TextRunEvent, UnderstandResult } from '../understanding/events.js';
import { Run, type RunController } from '../run/run.js';
import { SerialQueue } from '../../spec/serial-queue.js';
import { CheckedGraphs, type Graphs } from './graphs.js';
import { loadModel, type ModelClass, type ModelParts } from './load-model.js';
import type { LoadOptions, ParsedLoadOptions } from './load-options.js';
import type { UniPicEvents } from './model-events.js';
import type { CallContext } from './model-context.js';
import type { Platform } from './platform.js';

/**
 * The option, event and result types of each task. The core types them loosely; an entry point's
 * `UniPic` class narrows them to its built-in family's (UniPic-1's option schemas and results).
 */
export type TaskTypes = { readonly [Task in Capability]: { options: object; event: { type: string }; result: unknown } };

/** What the core knows of the tasks without a family: their event types. */
export interface DefaultTaskTypes extends TaskTypes {
  generate: { options: object; event: ImageRunEvent; result: unknown };
  edit: { options: object; event: ImageRunEvent; result: unknown };
  understand: { options: object; event: TextRunEvent; result: UnderstandResult };
}

/**
 * A loaded UniPic model. Calls return runs (async iterables of events with a `result` promise);
 * calls on one model queue rather than race; `dispose()` aborts what runs and frees every session.
 * What a call does is its family's (`model.family`): the model validates, queues and tracks runs.
 */
export class UniPicModel<
  Tasks extends TaskTypes = DefaultTaskTypes,
  Config = Readonly<Record<string, unknown>>,
  ModelManifest extends Manifest = Manifest,
> extends EventEmitter<UniPicEvents> {
  /** @internal Set by the platform entry point (`unipic` for Node or browsers). */
  static platform: Platform | undefined;

  readonly manifest: ModelManifest;
  /** The model family (the manifest's `family`, `unipic1` for folders converted before families). */
  readonly family: string;
  /** The family's `config` section of the manifest. */
  readonly config: Config;
  /** The tasks the model's family offers, loaded or not (`capabilities` is what this load can run). */
  readonly familyTasks: readonly Capability[];
  /** The tasks this loaded model offers (its family has them, its folder has their graphs, and they were loaded). */
  readonly capabilities: readonly Capability[];
  /** The backend's device and limits. */
  readonly backendInfo: BackendInfo;
  /** The dtype chosen for each graph. */
  readonly dtypes: Readonly<Partial<Record<GraphName, Dtype>>>;

  private readonly parts: ModelParts;
  private readonly queue = new SerialQueue();
  private readonly active = new Set<Run<{ type: string }, unknown>>();
  private isDisposed = false;
  private disposing: Promise<void> | undefined;
  private nextRunId = 1;
  protected readonly graphs: Graphs;

  /** @internal Use `UniPic.load()`. */
  constructor(parts: ModelParts) {
    super();
    this.parts = parts;
    this.manifest = parts.opened.manifest as ModelManifest;
    this.family = parts.family.id;
    this.familyTasks = (Object.keys(parts.family.tasks) as Capability[]).filter((task) => parts.family.tasks[task]);
    this.config = (parts.opened.manifest.config ?? {}) as Config;
    this.capabilities = parts.capabilities;
    this.backendInfo = parts.info;
    this.dtypes = parts.dtypes;
    this.graphs = new CheckedGraphs(
      (name) => parts.pool.get(name),
      Object.keys(parts.dtypes) as GraphName[],
      (name) => parts.pool.release(name),
    );
  }

  /** Load a converted model folder (`unipic.json` + graphs) from a path, URL, file map or ModelSource. */
  static async load<T extends UniPicModel<any, any, any>>(this: ModelClass<T>, source: unknown, options: LoadOptions = {}): Promise<T> {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass called (`UniPic`), whose platform and type the model gets
    return loadModel(this, source, options);
  }

  /** Make a model family loadable by every `UniPic.load` (the built-in ones are registered already). */
  static registerFamily(family: ModelFamily<any>): void {
    registerFamily(family);
  }

  /** Warnings raised while loading (device or dtype fallbacks). */
  loadWarnings: readonly { code: string; message: string }[] = [];

  /** @internal Create the sessions of `graphs` now (`load({ eager })`). */
  async createSessions(graphs: readonly GraphName[], onProgress: ParsedLoadOptions['onProgress'], signal?: AbortSignal): Promise<void> {
    let done = 0;
    for (const graph of graphs) {
      throwIfAborted(signal);
      onProgress?.({ phase: 'session-create', file: graph, fileLoaded: 0, fileTotal: 1, loaded: done, total: graphs.length });
      await this.parts.pool.get(graph);
      done++;
      onProgress?.({ phase: 'session-create', file: graph, fileLoaded: 1, fileTotal: 1, loaded: done, total: graphs.length });
    }
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  /** Number of calls waiting or running. */
  get pendingCalls(): number {
    return this.queue.pending;
  }

  /** @internal The graphs as pipelines see them (abort and NaN checks on every run). */
  get checkedGraphs(): Graphs {
    return this.graphs;
  }

  /**
   * Dispatch a call to the family's task: refuse a task the family lacks (UnsupportedTaskError),
   * validate the options with the family's schema and its model checks, all synchronously, then
   * start the run.
   */
  protected call<Task extends Capability>(task: Task, options: Tasks[Task]['options']): Run<Tasks[Task]['event'], Tasks[Task]['result']> {
    const definition = this.parts.family.tasks[task];
    if (!definition) {
      const offered = Object.keys(this.parts.family.tasks);
      throw new UnsupportedTaskError(`a ${this.family} model cannot ${task} (its family offers: ${offered.join(', ') || 'nothing'})`, {
        details: { task, family: this.family, capabilities: this.capabilities },
      });
    }
    const parsed = validate(definition.options, options, task);
    definition.check?.(parsed, this.parts.assets, this.callMemory(definition.graphs));
    const signal = (parsed as { signal?: AbortSignal }).signal;
    return this.startRun(task, signal, (context, controller) => definition.run(context, controller as RunController<never>, parsed));
  }

  /** The device's limits and the bytes of a task's graphs at the loaded dtypes, for `FamilyTask.check`. */
  private callMemory(graphs: readonly string[]): CallMemory {
    const loaded = graphs.filter((graph) => this.parts.dtypes[graph as GraphName]) as GraphName[];
    return { info: this.parts.info, weightsBytes: graphSetBytes(this.parts.opened.manifest, loaded, (graph) => this.parts.dtypes[graph]) };
  }

  /**
   * Start a call: queue behind earlier calls, run with a signal that follows the caller's signal,
   * `break`, `run.abort()` and `dispose()`.
   */
  protected startRun<Event extends { type: string }, Result>(
    capability: Capability,
    signal: AbortSignal | undefined,
    body: (context: CallContext<FamilyAssets>, controller: RunController<Event>) => Promise<Result>,
  ): Run<Event, Result> {
    if (this.isDisposed) throw new DisposedError('this model was disposed');
    if (!this.capabilities.includes(capability)) {
      throw new UniPicError('CAPABILITY_UNAVAILABLE', `this model was not loaded for ${capability} (capabilities: ${this.capabilities.join(', ')})`);
    }
    const id = this.nextRunId++;
    const run: Run<Event, Result> = new Run<Event, Result>(
      (controller) =>
        this.leaveQueueOnAbort(controller.signal, (markStarted) => async () => {
          throwIfAborted(controller.signal);
          markStarted();
          if (this.isDisposed) throw new AbortError('the model was disposed');
          const started = Date.now();
          this.emit('run-start', { capability, id });
          const warnings: { code: string; message: string }[] = [];
          const context: CallContext<FamilyAssets> = {
            graphs: this.graphs,
            config: this.config,
            assets: this.parts.assets,
            signal: controller.signal,
            warnings,
            lowMemory: this.parts.lowMemory,
            doneWith: async (graphs) => {
              if (this.parts.lowMemory) for (const graph of graphs) await this.graphs.release(graph);
            },
            warn: (code, message) => {
              warnings.push({ code, message });
              controller.emit({ type: 'warning', code, message } as unknown as Event);
            },
          };
          try {
            const result = await body(context, controller);
            this.emit('run-end', { capability, id, outcome: 'success', ms: Date.now() - started });
            return result;
          } catch (error) {
            const aborted = controller.signal.aborted || (UniPicError.isInstance(error) && error.code === 'ABORTED');
            this.emit('run-end', { capability, id, outcome: aborted ? 'aborted' : 'error', ms: Date.now() - started });
            throw error;
          }
        }),
      signal,
    );
    this.active.add(run as Run<{ type: string }, unknown>);
    run.result.then(
      () => this.active.delete(run as Run<{ type: string }, unknown>),
      () => this.active.delete(run as Run<{ type: string }, unknown>),
    );
    return run;
  }

  /**
   * Queue a task; an abort while it still waits rejects at once instead of when the queue reaches
   * it. Once started, the task alone settles the call, so its tensors are released before that.
   */
  private leaveQueueOnAbort<Result>(signal: AbortSignal, task: (markStarted: () => void) => () => Promise<Result>): Promise<Result> {
    let started = false;
    const queued = this.queue.enqueue(task(() => (started = true)));
    return new Promise<Result>((resolve, reject) => {
      const onAbort = () => {
        if (!started) reject(toAbortError(signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      queued.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Text → image. Returns a run: iterate it for `step-start`/`step-finish`/`image-preview` events, await `result`. */
  generate(options: Tasks['generate']['options']): Run<Tasks['generate']['event'], Tasks['generate']['result']> {
    return this.call('generate', options);
  }

  /** Image + instruction → image. The source image conditions both the prompt and the decoder. */
  edit(options: Tasks['edit']['options']): Run<Tasks['edit']['event'], Tasks['edit']['result']> {
    return this.call('edit', options);
  }

  /** Image + question → text, streamed as `text-delta` events. Greedy by default, like the official script. */
  understand(options: Tasks['understand']['options']): Run<Tasks['understand']['event'], Tasks['understand']['result']> {
    return this.call('understand', options);
  }

  /**
   * Abort every call, wait for them to stop, then free every session and the backend. Every
   * caller of `dispose()`, not only the first, resolves once everything is released.
   */
  dispose(): Promise<void> {
    this.disposing ??= this.release();
    return this.disposing;
  }

  private async release(): Promise<void> {
    this.isDisposed = true;
    const runs = [...this.active];
    for (const run of runs) run.abort(new AbortError('the model was disposed'));
    await Promise.all(runs.map((r) => r.result.catch(() => undefined)));
    try {
      this.parts.assets.dispose();
      await this.parts.pool.dispose();
    } finally {
      try {
        if (this.parts.ownsBackend) await this.parts.backend.dispose();
      } finally {
        // Object URLs over cached blobs (browsers) are revoked here.
        this.parts.files.release();
        this.parts.opened.release?.();
        this.emit('dispose');
        this.removeAllListeners();
      }
    }
  }
}
