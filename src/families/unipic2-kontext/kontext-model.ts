import { AbortError, toAbortError } from '../../errors/abort-error.js';
import { DisposedError } from '../../errors/disposed-error.js';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { UniPicError } from '../../errors/unipic-error.js';
import { CheckedGraphs } from '../../core/model/graphs.js';
import { validate } from '../../core/options/validate.js';
import { Run, type RunController } from '../../core/run/run.js';
import { TaskQueue } from '../../core/run/task-queue.js';
import type { Backend, BackendSession, GraphSource } from '../../spec/backend.js';
import type { Dtype, GraphName } from '../../spec/manifest.js';
import { KONTEXT_GRAPHS, type KontextConfig, type KontextGraphName } from './kontext-config.js';
import { kontextManifestSchema, type KontextManifest } from './kontext-manifest.js';
import type { KontextResult, KontextRunEvent } from './pipeline/kontext-events.js';
import type { KontextGraphRunner } from './pipeline/kontext-graph-runner.js';
import {
  kontextEditOptionsSchema,
  kontextGenerateOptionsSchema,
  type KontextEditOptions,
  type KontextGenerateOptions,
} from './pipeline/kontext-options.js';
import { editKontext, generateKontext, type KontextContext } from './pipeline/run-kontext.js';
import { ClipPromptTokenizer, T5PromptTokenizer } from './text/kontext-tokenizers.js';

/** How a model folder's files are reached (Node: paths; browsers: URLs or bytes). */
export interface KontextFiles {
  /** A graph file and its external data, as the backend takes them. */
  graphSource(name: string, file: string, externalData: readonly string[]): GraphSource;
  readText(path: string): Promise<string>;
}

export interface KontextLoadOptions {
  /** One dtype for every graph (default: fp32 when present, else the first the folder has). */
  readonly dtype?: Dtype;
  readonly threads?: number;
}

/** The capabilities of this family: no `understand` (the model has no text decoder). */
export const KONTEXT_CAPABILITIES = ['generate', 'edit'] as const;

/**
 * A loaded UniPic2-SD3.5M-Kontext model: `generate` and `edit`, each returning a Run with typed
 * per-step events. Calls queue; sessions are created on first use; `dispose()` aborts what runs
 * and frees every session.
 */
export class KontextModel {
  readonly family = 'unipic2-kontext' as const;
  readonly capabilities = KONTEXT_CAPABILITIES;
  readonly config: KontextConfig;
  readonly dtypes: Readonly<Partial<Record<KontextGraphName, Dtype>>>;
  private readonly sessions = new Map<KontextGraphName, Promise<BackendSession>>();
  private readonly queue = new TaskQueue();
  private readonly active = new Set<Run<KontextRunEvent, KontextResult>>();
  private readonly context: KontextContext;
  private isDisposed = false;

  private constructor(
    readonly manifest: KontextManifest,
    private readonly backend: Backend,
    private readonly files: KontextFiles,
    tokenizers: KontextContext['tokenizers'],
    dtypes: Partial<Record<KontextGraphName, Dtype>>,
    private readonly options: KontextLoadOptions,
  ) {
    this.config = manifest.config;
    this.dtypes = dtypes;
    const checked = new CheckedGraphs((name) => this.session(name as unknown as KontextGraphName), Object.keys(dtypes) as unknown as GraphName[]);
    const graphs: KontextGraphRunner = {
      has: (name) => checked.has(name as unknown as GraphName),
      run: (name, feeds, runOptions) => checked.run(name as unknown as GraphName, feeds, runOptions),
    };
    this.context = { graphs, config: this.config, tokenizers };
  }

  /** Opens a converted folder's manifest and tokenizers; the backend must be initialised. */
  static async open(manifestJson: unknown, files: KontextFiles, backend: Backend, options: KontextLoadOptions = {}): Promise<KontextModel> {
    const parsed = kontextManifestSchema.safeParse(manifestJson);
    if (!parsed.success) {
      throw new InvalidModelError(`unipic.json is not a UniPic2-SD3.5M-Kontext manifest: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const manifest = parsed.data;
    const dtypes: Partial<Record<KontextGraphName, Dtype>> = {};
    for (const name of KONTEXT_GRAPHS) {
      const variants = manifest.graphs[name];
      if (!variants) continue;
      const available = Object.keys(variants) as Dtype[];
      const wanted = options.dtype ?? 'fp32';
      dtypes[name] = available.includes(wanted) ? wanted : available[0];
    }
    for (const needed of ['clip_l', 'clip_g', 'transformer', 'vae_encoder', 'vae_decoder'] as const) {
      if (!dtypes[needed]) throw new InvalidModelError(`this Kontext folder lacks the ${needed} graph`);
    }
    const json = async (path: string): Promise<unknown> => JSON.parse(await files.readText(path));
    const text = manifest.config.text;
    const t = manifest.tokenizers;
    const tokenizers = {
      clipL: new ClipPromptTokenizer(await json(t.clipL.file), t.clipL, text.clipLength),
      clipG: new ClipPromptTokenizer(await json(t.clipG.file), t.clipG, text.clipLength),
      ...(t.t5 ? { t5: new T5PromptTokenizer(await json(t.t5.file), t.t5, text.t5Length) } : {}),
    };
    return new KontextModel(manifest, backend, files, tokenizers, dtypes, options);
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  /** Text → image (official defaults: 384×512, 50 steps, guidance 3.5, negative prompt ""). */
  generate(options: KontextGenerateOptions): Run<KontextRunEvent, KontextResult> {
    const parsed = validate(kontextGenerateOptionsSchema, options, 'generate');
    return this.start(parsed.signal, (controller) => generateKontext(this.context, controller, parsed));
  }

  /** Image + instruction → image (official defaults: longer edge 512, multiple 32, the editing negative prompt). */
  edit(options: KontextEditOptions): Run<KontextRunEvent, KontextResult> {
    const parsed = validate(kontextEditOptionsSchema, options, 'edit');
    return this.start(parsed.signal, (controller) => editKontext(this.context, controller, parsed));
  }

  /** Not offered by this family. */
  understand(): never {
    throw new UniPicError('CAPABILITY_UNAVAILABLE', 'UniPic2-SD3.5M-Kontext models cannot understand images (capabilities: generate, edit)');
  }

  private start(signal: AbortSignal | undefined, body: (controller: RunController<KontextRunEvent>) => Promise<KontextResult>): Run<KontextRunEvent, KontextResult> {
    if (this.isDisposed) throw new DisposedError('this model was disposed');
    const run = new Run<KontextRunEvent, KontextResult>((controller) => {
      let started = false;
      const queued = this.queue.enqueue(async () => {
        started = true;
        if (controller.signal.aborted) throw toAbortError(controller.signal.reason);
        if (this.isDisposed) throw new AbortError('the model was disposed');
        return body(controller);
      });
      return new Promise<KontextResult>((resolve, reject) => {
        const onAbort = () => {
          if (!started) reject(toAbortError(controller.signal.reason));
        };
        controller.signal.addEventListener('abort', onAbort, { once: true });
        queued.then(resolve, reject).finally(() => controller.signal.removeEventListener('abort', onAbort));
      });
    }, signal);
    this.active.add(run);
    const forget = () => this.active.delete(run);
    run.result.then(forget, forget);
    return run;
  }

  private session(name: KontextGraphName): Promise<BackendSession> {
    if (this.isDisposed) return Promise.reject(new DisposedError('this model was disposed'));
    let session = this.sessions.get(name);
    if (!session) {
      const dtype = this.dtypes[name];
      const variant = dtype ? this.manifest.graphs[name]?.[dtype] : undefined;
      if (!variant) return Promise.reject(new InvalidModelError(`this model has no ${name} graph`));
      session = this.backend.createSession(this.files.graphSource(name, variant.file, variant.externalData), { threads: this.options.threads });
      this.sessions.set(name, session);
      session.catch(() => this.sessions.delete(name));
    }
    return session;
  }

  /** Frees one graph's session (e.g. the text encoders after encoding, on small machines). */
  async release(name: KontextGraphName): Promise<void> {
    const session = this.sessions.get(name);
    this.sessions.delete(name);
    if (session) await (await session).dispose();
  }

  async dispose(): Promise<void> {
    if (this.isDisposed) return;
    this.isDisposed = true;
    const runs = [...this.active];
    for (const run of runs) run.abort(new AbortError('the model was disposed'));
    await Promise.all(runs.map((r) => r.result.catch(() => undefined)));
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map(async (s) => (await s.catch(() => undefined))?.dispose()));
  }
}
