import type { DeviceTensor, Feed } from '../spec/backend.js';
import type { KvCacheKind } from '../spec/manifest.js';
import type { GraphRunOptions } from './model/graphs.js';
import type { LlmStepFeeds } from './llm-step-inputs.js';

/**
 * The host side of an `llm` graph's KV cache, whichever kind the folder has: it builds each run's
 * feeds (mask, positions, past) and takes the run's cache outputs back. Every row holds the same
 * number of positions; `restrict` gives rows their own valid slots and positions (a right-padded
 * prompt batch).
 */
export interface LlmKvCache {
  readonly kind: KvCacheKind;
  readonly rows: number;
  /** Positions held per row (padding included). */
  readonly length: number;
  /** The outputs `append` takes from a run. */
  readonly outputNames: readonly string[];
  /** Whether those outputs should stay on the device (they feed the next run as they are). */
  readonly keepOutputsOnDevice: boolean;
  /** The feeds of one run over `embeds` `[rows, length, hidden]`, after the held positions. */
  stepInputs(embeds: Feed, length: number): LlmStepFeeds;
  /** Takes a run's cache outputs (`outputNames`) for `length` new positions; disposes what it no longer needs. */
  append(outputs: Readonly<Record<string, DeviceTensor>>, length: number): Promise<void>;
  /** Room for `positions` per row, so appends up to there copy nothing (a hint; the concat cache ignores it). */
  reserve(positions: number): void;
  /**
   * From now on row r attends only the held slots where `mask[r·length + i]` is 1 and its next
   * position id is `nextPositions[r]` (later appends attend and count on from there).
   */
  restrict(mask: ArrayLike<number>, nextPositions: readonly number[]): void;
  /** Remembers the current contents; `rollback` returns to them (a kept prefix under one call's own steps). */
  checkpoint(): void;
  /** Drops everything appended since the last `checkpoint` (everything, without one). */
  rollback(): void;
  /** Frees every buffer and tensor the cache holds. */
  clear(): void;
}

/** What `runLlmStep` needs of a model's graphs (its `llm` contract differs by cache kind). */
export interface LlmRunner {
  run(name: 'llm', feeds: LlmStepFeeds, options?: GraphRunOptions): Promise<Readonly<Record<string, DeviceTensor>>>;
}

export interface LlmStepOptions {
  /** Return `last_hidden_state` (the caller owns it). */
  readonly hidden?: boolean;
  /** Leave `last_hidden_state` on the device unscanned (it feeds another graph, whose outputs are scanned). */
  readonly keepHidden?: boolean;
  /** Append the new positions to the cache. */
  readonly append?: boolean;
  readonly signal?: AbortSignal | undefined;
}

/**
 * One `llm` run over `embeds` on top of `cache`: appends the new positions to the cache when
 * `append` is set and returns `last_hidden_state` when `hidden` is set. Cache outputs are fetched
 * only when appended, so a run that leaves the cache as it is copies nothing back.
 */
export async function runLlmStep(
  graphs: LlmRunner,
  cache: LlmKvCache,
  embeds: Feed,
  length: number,
  options: LlmStepOptions & { readonly hidden: true },
): Promise<DeviceTensor>;
export async function runLlmStep(graphs: LlmRunner, cache: LlmKvCache, embeds: Feed, length: number, options: LlmStepOptions): Promise<DeviceTensor | undefined>;
export async function runLlmStep(graphs: LlmRunner, cache: LlmKvCache, embeds: Feed, length: number, options: LlmStepOptions): Promise<DeviceTensor | undefined> {
  const cacheOutputs = options.append ? cache.outputNames : [];
  const outputs = [...(options.hidden ? ['last_hidden_state'] : []), ...cacheOutputs];
  const out = await graphs.run('llm', cache.stepInputs(embeds, length), {
    signal: options.signal,
    outputs,
    keepOnDevice: [...(options.hidden && options.keepHidden ? ['last_hidden_state'] : []), ...(cache.keepOutputsOnDevice ? cacheOutputs : [])],
  });
  try {
    if (options.append) await cache.append(out, length);
  } catch (error) {
    for (const tensor of Object.values(out)) tensor.dispose();
    throw error;
  }
  return options.hidden ? out.last_hidden_state : undefined;
}
