import { throwIfAborted } from '../../errors/abort-error.js';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import { UniPicError } from '../../errors/unipic-error.js';
import { CAPABILITIES, type Capability, type Dtype, type GraphName } from '../../spec/manifest.js';
import { familyOf } from '../family/family-registry.js';
import type { ResolvedFiles } from '../sources/resolved-file.js';
import { chooseDtypes } from './dtype-choice.js';
import { checkFileLimits } from './file-limits.js';
import { loadOptionsSchema, sourceOptionsOf, type LoadOptions, type ParsedLoadOptions } from './load-options.js';
import { validate } from '../options/validate.js';
import { graphFiles, SessionPool } from './session-pool.js';
import type { Backend, BackendInfo } from '../../spec/backend.js';
import type { LoadProgressCallback } from '../../spec/progress.js';
import type { FamilyAssets, ModelFamily } from '../family/model-family.js';
import type { Graphs } from './graphs.js';
import type { UniPicEvents } from './model-events.js';
import type { OpenedModel, Platform } from './platform.js';

/**
 * `UniPic.load`: open the source, pick the family from the manifest, choose the tasks (those the
 * family offers whose graphs the folder has, or the caller's), init the backend, choose dtypes,
 * resolve the files those tasks need, and build the model. Sessions are created on first use
 * unless `eager`/`warmup`. Anything that fails releases what was opened.
 */
/** What `loadModel` needs of the model it builds (UniPicModel), without importing it. */
export interface LoadedModel {
  emit<Name extends keyof UniPicEvents>(name: Name, ...args: UniPicEvents[Name]): boolean;
  createSessions(graphs: readonly GraphName[], onProgress: LoadProgressCallback | undefined, signal?: AbortSignal): Promise<void>;
  readonly checkedGraphs: Graphs;
  loadWarnings: readonly { code: string; message: string }[];
}

/** A model class with the platform set (the `UniPic` export of each entry point). */
export interface ModelClass<T extends LoadedModel> {
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
  /** `load({ lowMemory })`: free the graphs a call is done with (`CallContext.doneWith`). */
  readonly lowMemory: boolean;
  /** The family that reads the manifest, and its per-model assets. */
  readonly family: ModelFamily;
  readonly assets: FamilyAssets;
  /** The resolved model files (object URLs to revoke on dispose in browsers). */
  readonly files: ResolvedFiles;
}

export async function loadModel<T extends LoadedModel>(Model: ModelClass<T>, source: unknown, options: LoadOptions): Promise<T> {
  const parsed: ParsedLoadOptions = validate(loadOptionsSchema, options, 'load');
  const platform = Model.platform;
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
  let family;
  try {
    family = familyOf(manifest, opened.description);
    if (parsed.family !== undefined && parsed.family !== family.id) {
      throw new InvalidModelError(`${opened.description} holds a ${family.id} model, not the ${parsed.family} that the family option asks for`, {
        details: { expected: parsed.family, family: family.id },
      });
    }
  } catch (error) {
    opened.release?.();
    throw error;
  }
  const offered = CAPABILITIES.filter((task) => family.tasks[task]);
  const required = (task: Capability) => [...(family.tasks[task]?.graphs ?? []), ...(family.tasks[task]?.manifestGraphs?.(manifest) ?? [])];
  const present = offered.filter((task) => required(task).every((g) => manifest.graphs[g]));
  const capabilities: readonly Capability[] = parsed.capabilities ?? present;
  const missing = capabilities.filter((c) => !present.includes(c));
  if (missing.length) {
    opened.release?.();
    const why = (task: Capability) => (offered.includes(task) ? 'its folder lacks the graphs' : `the ${family.id} family has no ${task}`);
    throw new InvalidOptionsError(`this model cannot ${missing.join(', ')}: ${missing.map(why).join('; ')}`, {
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
      ...new Set(
        capabilities.flatMap((c) => {
          const task = family.tasks[c];
          return [...required(c), ...(task?.optionalGraphs ?? []).filter((g) => manifest.graphs[g])];
        }),
      ),
    ];
    const dtypes = Object.fromEntries(needed.map((g) => [g, choice.byGraph[g]])) as Partial<Record<GraphName, Dtype>>;
    const files = [...needed.flatMap((g) => graphFiles(manifest, g, dtypes[g] as Dtype)), ...family.assetFiles(manifest, capabilities)];
    checkFileLimits(manifest, dtypes, info);
    warnings.push(...(family.checkDevice?.(manifest, dtypes as Record<string, string>, info, capabilities) ?? []));
    const resolved = await opened.resolve(files);
    throwIfAborted(signal);
    let model: T | undefined;
    pool = new SessionPool(backend, manifest, dtypes, async () => resolved, {
      threads: parsed.threads,
      transient: family.transientGraphs,
      onCreate: (graph, ms) => model?.emit('session-create', { graph, ms }),
      onRelease: (graph) => model?.emit('session-release', { graph }),
    });
    const assets = family.createAssets(manifest, (path) => platform.readFile(resolved.get(path)));
    resolvedFiles = resolved;
    const created = new Model({ opened, backend, ownsBackend, info, dtypes, capabilities, pool, lowMemory: parsed.lowMemory, family, assets, files: resolved });
    model = created;
    if (parsed.eager || parsed.warmup) await created.createSessions(needed, parsed.onProgress, signal);
    if (parsed.warmup) await family.warmUp?.(created.checkedGraphs, manifest, needed, parsed.onProgress, signal);
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
