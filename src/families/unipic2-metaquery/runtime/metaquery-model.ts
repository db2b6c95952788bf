import { AbortError, toAbortError } from '../../../errors/abort-error.js';
import { DisposedError } from '../../../errors/disposed-error.js';
import { InvalidModelError } from '../../../errors/invalid-model-error.js';
import { loadImage, type ImageInput } from '../../../core/image/load-image.js';
import { CheckedGraphs } from '../../../core/model/graphs.js';
import { validate } from '../../../core/options/validate.js';
import { Run, type RunController } from '../../../core/run/run.js';
import { TaskQueue } from '../../../core/run/task-queue.js';
import { TextTokenizer } from '../../../core/text/tokenizer.js';
import type { TextRunEvent, UnderstandResult } from '../../../core/understanding/events.js';
import { decodeSafetensors } from '../../../formats/safetensors.js';
import type { Backend, BackendSession, GraphSource } from '../../../spec/backend.js';
import type { GraphName } from '../../../spec/manifest.js';
import { editConditioning, generateConditioning, type ConditioningModel, type ConditioningPair } from './conditioning-pairs.js';
import { parseMetaqueryDescription, type MetaqueryDescription } from './metaquery-description.js';
import type { MqGraphName, MqGraphs, MqRuntimeConfig } from './mq-graphs.js';
import { ImagePrefixCache, understandMetaquery } from './understand.js';
import { generationDefaults, metaqueryUnderstandSchema, type MetaqueryUnderstandInput, type MetaqueryUnderstandSchema } from './understand-options.js';

/** How a converted folder's files are reached (Node: paths; browsers: URLs or bytes). */
export interface MetaqueryFiles {
  graphSource(name: string, file: string, externalData: readonly string[]): GraphSource;
  readText(path: string): Promise<string>;
  readBytes(path: string): Promise<Uint8Array>;
}

/**
 * What this standalone class runs: `understand`, plus the sampler's text conditioning. `generate`
 * and `edit` are the registered family's (runtime.ts, through `UniPic.load`), which runs the sampler.
 */
export const METAQUERY_CAPABILITIES = ['understand'] as const;

/**
 * A loaded UniPic2-Metaquery VLM side: `understand` (a Run of text deltas, as UniPic-1's), and the
 * text conditioning the Kontext sampler takes for generate and edit. Calls queue; sessions are
 * created on first use; `dispose()` aborts what runs and frees every session and the image cache.
 */
export class MetaqueryModel {
  readonly family = 'unipic2-metaquery' as const;
  readonly capabilities = METAQUERY_CAPABILITIES;
  readonly config: MqRuntimeConfig;
  private readonly sessions = new Map<MqGraphName, Promise<BackendSession>>();
  private readonly queue = new TaskQueue();
  private readonly active = new Set<Run<TextRunEvent, UnderstandResult>>();
  private readonly cache = new ImagePrefixCache();
  private readonly graphs: MqGraphs;
  private readonly understandSchema: MetaqueryUnderstandSchema;
  private isDisposed = false;

  private constructor(
    readonly description: MetaqueryDescription,
    private readonly backend: Backend,
    private readonly files: MetaqueryFiles,
    private readonly tokenizer: TextTokenizer,
    private readonly metaQueries: Float32Array,
    private readonly options: { readonly threads?: number },
  ) {
    this.config = description.config;
    const checked = new CheckedGraphs((name) => this.session(name as unknown as MqGraphName));
    this.graphs = { run: (name, feeds, runOptions) => checked.run(name as unknown as GraphName, feeds, runOptions) };
    this.understandSchema = metaqueryUnderstandSchema({ ...generationDefaults(description.generation), ...description.processor });
  }

  /** Opens a converted folder's description, tokenizer and meta-queries; the backend must be initialised. */
  static async open(descriptionJson: unknown, files: MetaqueryFiles, backend: Backend, options: { readonly threads?: number } = {}): Promise<MetaqueryModel> {
    const description = parseMetaqueryDescription(descriptionJson);
    const tokenizer = TextTokenizer.fromJson(
      JSON.parse(await files.readText(description.tokenizer.json)),
      JSON.parse(await files.readText(description.tokenizer.config)),
    );
    const table = decodeSafetensors(await files.readBytes(description.tables.metaQueries), description.tables.metaQueries).tensors.get('meta_queries');
    const { numQueries, llm } = description.config;
    if (table?.dtype !== 'float32' || table.bytes.length !== numQueries * llm.hiddenSize * 4) {
      throw new InvalidModelError(`${description.tables.metaQueries} must hold meta_queries float32 [${numQueries}, ${llm.hiddenSize}]`);
    }
    const bytes = table.bytes.slice();
    return new MetaqueryModel(description, backend, files, tokenizer, new Float32Array(bytes.buffer), options);
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  /** Image + question → streamed text, with the checkpoint's generation defaults (understand-options.ts). */
  understand(options: MetaqueryUnderstandInput): Run<TextRunEvent, UnderstandResult> {
    const parsed = validate(this.understandSchema, options, 'understand');
    return this.start(parsed.signal, (controller) =>
      understandMetaquery(
        { graphs: this.graphs, config: this.config, tokenizer: this.tokenizer, eosIds: this.description.eosIds, cache: this.cache, emit: (e) => controller.emit(e) },
        { ...parsed, signal: controller.signal },
      ),
    );
  }

  /** Text-to-image conditioning (prompt and negative rows) for the Kontext sampler. */
  generateConditioning(prompt: string, negativePrompt?: string, signal?: AbortSignal): Promise<ConditioningPair> {
    return this.queued(() => generateConditioning(this.conditioningModel(), prompt, negativePrompt, signal));
  }

  /** Editing conditioning; `image` is the edit-size image (sides multiples of 32). */
  editConditioning(image: ImageInput, instruction: string, negativePrompt?: string, signal?: AbortSignal): Promise<ConditioningPair> {
    return this.queued(async () => editConditioning(this.conditioningModel(), await loadImage(image, { signal }), instruction, negativePrompt, signal));
  }

  private conditioningModel(): ConditioningModel {
    return { graphs: this.graphs, config: this.config, tokenizer: this.tokenizer, metaQueries: this.metaQueries };
  }

  private queued<T>(task: () => Promise<T>): Promise<T> {
    if (this.isDisposed) return Promise.reject(new DisposedError('this model was disposed'));
    return this.queue.enqueue(task);
  }

  private start(signal: AbortSignal | undefined, body: (controller: RunController<TextRunEvent>) => Promise<UnderstandResult>): Run<TextRunEvent, UnderstandResult> {
    if (this.isDisposed) throw new DisposedError('this model was disposed');
    const run = new Run<TextRunEvent, UnderstandResult>((controller) => {
      let started = false;
      const queued = this.queue.enqueue(async () => {
        started = true;
        if (controller.signal.aborted) throw toAbortError(controller.signal.reason);
        if (this.isDisposed) throw new AbortError('the model was disposed');
        return body(controller);
      });
      return new Promise<UnderstandResult>((resolve, reject) => {
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

  private session(name: MqGraphName): Promise<BackendSession> {
    if (this.isDisposed) return Promise.reject(new DisposedError('this model was disposed'));
    let session = this.sessions.get(name);
    if (!session) {
      const graph = this.description.graphs[name];
      session = this.backend.createSession(this.files.graphSource(name, graph.file, graph.externalData), { threads: this.options.threads });
      this.sessions.set(name, session);
      session.catch(() => this.sessions.delete(name));
    }
    return session;
  }

  /** Frees one graph's session (e.g. the VLM before the Kontext transformer runs, on small machines). */
  async release(name: MqGraphName): Promise<void> {
    const session = this.sessions.get(name);
    this.sessions.delete(name);
    if (name === 'llm') this.cache.dispose();
    if (session) await (await session).dispose();
  }

  async dispose(): Promise<void> {
    if (this.isDisposed) return;
    this.isDisposed = true;
    const runs = [...this.active];
    for (const run of runs) run.abort(new AbortError('the model was disposed'));
    await Promise.all(runs.map((r) => r.result.catch(() => undefined)));
    this.cache.dispose();
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map(async (s) => (await s.catch(() => undefined))?.dispose()));
  }
}
