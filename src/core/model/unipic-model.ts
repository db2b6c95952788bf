import { EventEmitter } from 'eventemitter3';
import { AbortError, throwIfAborted, toAbortError } from '../../errors/abort-error.js';
import { DisposedError } from '../../errors/disposed-error.js';
import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import { UniPicError } from '../../errors/unipic-error.js';
import type { Backend, BackendInfo } from '../../spec/backend.js';
import { CAPABILITIES, CAPABILITY_GRAPHS, OPTIONAL_CAPABILITY_GRAPHS, type Capability, type Dtype, type GraphName, type Manifest, type ModelConfig } from '../../spec/manifest.js';
import { validate } from '../options/validate.js';
import { generateOptionsSchema, type GenerateOptions } from '../../families/unipic1/options/generate-options.js';
import type { ImageRunEvent } from '../generation/events.js';
import { generateImages, type GenerateResult } from '../../families/unipic1/generation/generate.js';
import { editImage } from '../../families/unipic1/generation/edit.js';
import { editOptionsSchema, type EditOptions } from '../../families/unipic1/options/edit-options.js';
import { understandOptionsSchema, type UnderstandOptions } from '../../families/unipic1/options/understand-options.js';
import type { TextRunEvent, UnderstandResult } from '../understanding/events.js';
import { understandImage } from '../../families/unipic1/understanding/understand.js';
import { Run, type RunController } from '../run/run.js';
import { TaskQueue } from '../run/task-queue.js';
import { chooseDtypes } from './dtype-choice.js';
import { CheckedGraphs, type Graphs } from './graphs.js';
import { loadOptionsSchema, sourceOptionsOf, type LoadOptions, type ParsedLoadOptions } from './load-options.js';
import type { UniPicEvents } from './model-events.js';
import type { CallContext } from './model-context.js';
import { ModelAssets } from '../../families/unipic1/model/model-assets.js';
import type { OpenedModel, Platform } from './platform.js';
import { graphFiles, SessionPool } from './session-pool.js';
import type { ResolvedFiles } from '../sources/resolved-file.js';
import { warmUp } from '../../families/unipic1/model/warm-up.js';

/** A model class with the platform set (the `UniPic` export of each entry point). */
export interface ModelClass<T extends UniPicModel> {
  new (parts: ModelParts): T;
  platform: Platform | undefined;
}

/** @internal The pieces a model is made of (built by `load`). */
export interface ModelParts {
  readonly opened: OpenedModel;
  readonly backend: Backend;
  readonly ownsBackend: boolean;
  readonly info: BackendInfo;
  readonly dtypes: Partial<Record<GraphName, Dtype>>;
  readonly capabilities: readonly Capability[];
  readonly pool: SessionPool;
  readonly assets: ModelAssets;
  /** The resolved model files (object URLs to revoke on dispose in browsers). */
  readonly files: ResolvedFiles;
}

/**
 * A loaded UniPic model. Calls return runs (async iterables of events with a `result` promise);
 * calls on one model queue rather than race; `dispose()` aborts what runs and frees every session.
 */
export class UniPicModel extends EventEmitter<UniPicEvents> {
  /** @internal Set by the platform entry point (`unipic` for Node or browsers). */
  static platform: Platform | undefined;

  readonly manifest: Manifest;
  readonly config: ModelConfig;
  /** What this loaded model can do (graphs present and prepared). */
  readonly capabilities: readonly Capability[];
  /** The backend's device and limits. */
  readonly backendInfo: BackendInfo;
  /** The dtype chosen for each graph. */
  readonly dtypes: Readonly<Partial<Record<GraphName, Dtype>>>;

  private readonly parts: ModelParts;
  private readonly queue = new TaskQueue();
  private readonly active = new Set<Run<{ type: string }, unknown>>();
  private isDisposed = false;
  private disposing: Promise<void> | undefined;
  private nextRunId = 1;
  protected readonly graphs: Graphs;

  /** @internal Use `UniPic.load()`. */
  constructor(parts: ModelParts) {
    super();
    this.parts = parts;
    this.manifest = parts.opened.manifest;
    this.config = parts.opened.manifest.config;
    this.capabilities = parts.capabilities;
    this.backendInfo = parts.info;
    this.dtypes = parts.dtypes;
    this.graphs = new CheckedGraphs((name) => parts.pool.get(name), Object.keys(parts.dtypes) as GraphName[]);
  }

  /** Load a converted model folder (`unipic.json` + graphs) from a path, URL, file map or ModelSource. */
  static async load<T extends UniPicModel>(this: ModelClass<T>, source: unknown, options: LoadOptions = {}): Promise<T> {
    const parsed: ParsedLoadOptions = validate(loadOptionsSchema, options, 'load');
    const platform = this.platform;
    if (!platform) throw new UniPicError('NO_PLATFORM', 'import UniPic from "unipic" (the platform entry point), not from internal modules');
    const { signal } = parsed;
    throwIfAborted(signal);
    const warnings: { code: string; message: string }[] = [];
    const opened = await platform.openModel(source, {
      ...sourceOptionsOf(parsed),
      ...(signal ? { signal } : {}),
      ...(parsed.onProgress ? { onProgress: parsed.onProgress } : {}),
    });
    const manifest = opened.manifest;
    const present = CAPABILITIES.filter((c) => CAPABILITY_GRAPHS[c].every((g) => manifest.graphs[g]));
    const capabilities = parsed.capabilities ?? present;
    const missing = capabilities.filter((c) => !present.includes(c));
    if (missing.length) {
      throw new InvalidOptionsError(`this model cannot ${missing.join(', ')}: its folder lacks the graphs`, {
        details: { issues: [{ path: 'capabilities', message: `not in this model: ${missing.join(', ')}` }] },
      });
    }

    const ownsBackend = typeof parsed.backend !== 'object';
    const backend = typeof parsed.backend === 'object' ? parsed.backend : await platform.createBackend(parsed.backend);
    let pool: SessionPool | undefined;
    let resolvedFiles: ResolvedFiles | undefined;
    try {
      const info = await backend.init({ device: parsed.device, onWarning: (w) => warnings.push(w), extra: parsed.backendOptions });
      throwIfAborted(signal);
      const choice = chooseDtypes(manifest, info.device, info.fp16, parsed.dtype);
      for (const message of choice.warnings) warnings.push({ code: 'dtype-fallback', message });
      const needed = [
        ...new Set(capabilities.flatMap((c) => [...CAPABILITY_GRAPHS[c], ...OPTIONAL_CAPABILITY_GRAPHS[c].filter((g) => manifest.graphs[g])])),
      ];
      const dtypes = Object.fromEntries(needed.map((g) => [g, choice.byGraph[g]])) as Partial<Record<GraphName, Dtype>>;
      const files = [
        ...needed.flatMap((g) => graphFiles(manifest, g, dtypes[g] as Dtype)),
        manifest.tokenizer.json,
        manifest.tokenizer.config,
        manifest.constants,
        ...manifest.resolutions.map((r) => r.tables),
      ];
      const resolved = await opened.resolve(files);
      throwIfAborted(signal);
      let model: T | undefined;
      pool = new SessionPool(backend, manifest, dtypes, async () => resolved, {
        threads: parsed.threads,
        onCreate: (graph, ms) => model?.emit('session-create', { graph, ms }),
      });
      const assets = new ModelAssets(manifest, (path) => platform.readFile(resolved.get(path)));
      resolvedFiles = resolved;
      const created = new this({ opened, backend, ownsBackend, info, dtypes, capabilities, pool, assets, files: resolved });
      model = created;
      if (parsed.eager || parsed.warmup) await created.createSessions(needed, parsed.onProgress, signal);
      if (parsed.warmup) await warmUp(created.graphs, manifest.config, needed, parsed.onProgress, signal);
      // A macrotask later, so listeners attached right after `await UniPic.load()` receive them.
      if (warnings.length) setTimeout(() => warnings.forEach((w) => created.emit('warning', w)), 0);
      created.loadWarnings = warnings;
      return created;
    } catch (error) {
      await pool?.dispose();
      if (ownsBackend) await backend.dispose();
      resolvedFiles?.release();
      opened.release?.();
      throw error;
    }
  }

  /** Warnings raised while loading (device or dtype fallbacks). */
  loadWarnings: readonly { code: string; message: string }[] = [];

  private async createSessions(graphs: GraphName[], onProgress: ParsedLoadOptions['onProgress'], signal?: AbortSignal): Promise<void> {
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

  /**
   * Start a call: validate, queue behind earlier calls, run with a signal that follows the
   * caller's signal, `break`, `run.abort()` and `dispose()`.
   */
  protected startRun<Event extends { type: string }, Result>(
    capability: Capability,
    signal: AbortSignal | undefined,
    body: (context: CallContext, controller: RunController<Event>) => Promise<Result>,
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
          const context: CallContext = {
            graphs: this.graphs,
            config: this.config,
            assets: this.parts.assets,
            signal: controller.signal,
            warnings,
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
  generate(options: GenerateOptions): Run<ImageRunEvent, GenerateResult> {
    const parsed = validate(generateOptionsSchema, options, 'generate');
    this.checkSize(parsed.size);
    return this.startRun('generate', parsed.signal, (context, controller) => generateImages(context, controller, parsed));
  }

  /** Image + instruction → image. The source image conditions both the prompt and the decoder. */
  edit(options: EditOptions): Run<ImageRunEvent, GenerateResult> {
    const parsed = validate(editOptionsSchema, options, 'edit');
    this.checkSize(parsed.size);
    return this.startRun('edit', parsed.signal, (context, controller) => editImage(context, controller, parsed));
  }

  /** Image + question → text, streamed as `text-delta` events. Greedy by default, like the official script. */
  understand(options: UnderstandOptions): Run<TextRunEvent, UnderstandResult> {
    const parsed = validate(understandOptionsSchema, options, 'understand');
    this.checkSize(parsed.size);
    return this.startRun('understand', parsed.signal, (context, controller) => understandImage(context, controller, parsed));
  }

  /** Reject an output size the model has no position tables for, before queueing. */
  protected checkSize(size: number | undefined): void {
    if (size !== undefined) this.parts.assets.checkSize(size);
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
