import type { z } from 'zod';
import type { GraphContract } from '../../spec/graph-contract.js';
import type { BackendInfo } from '../../spec/backend.js';
import type { Capability, Manifest } from '../../spec/manifest.js';
import type { LoadProgressCallback } from '../../spec/progress.js';
import type { Graphs } from '../model/graphs.js';
import type { CallContext } from '../model/model-context.js';
import type { RunController } from '../run/run.js';

/** What a family keeps per loaded model (tokenizer, tables, cross-call caches); freed on dispose. */
export interface FamilyAssets {
  dispose(): void;
}

/**
 * One task (`generate`, `edit`, `understand`) as a family offers it: the graphs it needs, its
 * option schema (validated once at the public boundary), and the pipeline that runs it.
 */
export interface FamilyTask<
  Assets extends FamilyAssets = FamilyAssets,
  Parsed = unknown,
  Event extends { type: string } = { type: string },
  Result = unknown,
  Config = unknown,
  Contract extends GraphContract = GraphContract,
> {
  /** Graphs the task cannot run without: a folder lacking one does not offer the task. */
  readonly graphs: readonly string[];
  /** Graphs the task uses when the folder has them (faster paths), loaded with it. */
  readonly optionalGraphs?: readonly string[];
  /** Required graphs the manifest itself names (a variable number of transformer groups), beside `graphs`. */
  manifestGraphs?(manifest: Manifest): readonly string[];
  /** The call's options; its defaults are the family's. `signal` (optional) aborts the call. */
  readonly options: z.ZodType<Parsed>;
  /** Checks that need the loaded model (an output size it has tables for), before queueing. */
  check?(options: Parsed, assets: Assets): void;
  run(context: CallContext<Assets, Config, Contract>, controller: RunController<Event>, options: Parsed): Promise<Result>;
}

/**
 * A model family's runtime part (the browser-safe half; its converter registers separately under
 * src/convert). A family is one folder under src/families/ and is registered with
 * `registerFamily` (the built-in ones by the entry points); the core never names one.
 */
export interface ModelFamily<Assets extends FamilyAssets = FamilyAssets> {
  /** The manifest's `family` field. */
  readonly id: string;
  /** The `familyVersion` values this SDK reads. */
  readonly versions: readonly number[];
  /** The whole manifest, checked strictly: the family's sections and its graph names. */
  readonly manifestSchema: z.ZodType<Manifest>;
  /** Files the family's sections name, with the field naming each (each must be listed in `files`). */
  referencedFiles(manifest: Manifest): readonly { readonly path: string; readonly field: string }[];
  /** The tasks the family offers. */
  readonly tasks: { readonly [T in Capability]?: FamilyTask<Assets, any, any, any, any, any> };
  /**
   * The non-graph files a load of `tasks` reads (tokenizer, tables); `sizes`: only the tables of
   * these output sizes (a prefetch), all when absent.
   */
  assetFiles(manifest: Manifest, tasks: readonly Capability[], sizes?: readonly number[]): string[];
  /** The per-model assets, reading the resolved files with `read`. */
  createAssets(manifest: Manifest, read: (path: string) => Promise<Uint8Array>): Assets;
  /**
   * Refuses, before any file is read, a device that cannot hold what `tasks` need at the chosen
   * dtypes (a typed error with the numbers and what to do instead). Returns warnings for the
   * model's `warning` event, e.g. that the device does not report its memory so nothing was checked.
   */
  checkDevice?(
    manifest: Manifest,
    dtypes: Readonly<Record<string, string>>,
    info: BackendInfo,
    tasks: readonly Capability[],
  ): ReadonlyArray<{ readonly code: string; readonly message: string }> | undefined;
  /**
   * Graphs whose sessions give their working memory back after each run (`keepWorkingMemory:
   * false`): large activations, few runs per call, so the kept peaks of several sessions would add up.
   */
  readonly transientGraphs?: readonly string[];
  /** Run the small per-call graphs once so a GPU compiles their kernels (`load({ warmup })`). */
  warmUp?(graphs: Graphs, manifest: Manifest, loaded: readonly string[], onProgress: LoadProgressCallback | undefined, signal?: AbortSignal): Promise<void>;
}
