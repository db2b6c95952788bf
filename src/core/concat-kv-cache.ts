import type { DeviceTensor, Feed, HostTensor } from '../spec/backend.js';
import type { LlmConfig } from '../spec/llm-config.js';
import { KvCacheRows } from './kv-cache-rows.js';
import { disposeAll, emptyPast, presentNames, presentsAsPast } from './kv-cache.js';
import type { LlmKvCache } from './llm-kv-cache.js';
import { llmStepInputs, type LlmStepFeeds } from './llm-step-inputs.js';

interface State {
  readonly rows: KvCacheRows;
  readonly past: Readonly<Record<string, DeviceTensor | HostTensor>>;
  /** The tensors of `past` this cache disposes (none for the empty past). */
  readonly owned: Record<string, DeviceTensor> | undefined;
}

/**
 * The cache of a concat `llm` graph (`LLM_GRAPHS.llm`, folders converted before the in-place
 * cache): each run's `present.*` (past ++ new, left on the device) is the next run's past. Every
 * step copies the whole cache inside the graph; kept so those folders load and run unchanged.
 */
export class ConcatKvCache implements LlmKvCache {
  readonly kind = 'concat';
  readonly keepOutputsOnDevice = true;
  readonly outputNames: readonly string[];
  private state: State;
  private saved: State | undefined;

  constructor(
    private readonly llm: LlmConfig,
    readonly rows = 1,
  ) {
    this.outputNames = presentNames(llm.numLayers);
    this.state = this.empty();
  }

  get length(): number {
    return this.state.rows.length;
  }

  stepInputs(embeds: Feed, length: number): LlmStepFeeds {
    const { rows, past } = this.state;
    const firstPositions = rows.firstPositions();
    return llmStepInputs({
      embeds,
      rows: this.rows,
      length,
      pastLength: rows.length,
      pastMask: rows.slotMask(rows.length),
      ...(firstPositions ? { firstPositions } : {}),
      past,
    });
  }

  async append(outputs: Readonly<Record<string, DeviceTensor>>, length: number): Promise<void> {
    const rows = this.state.rows.copy();
    rows.append(length);
    this.release(this.state);
    const owned = presentsAsPast(outputs);
    this.state = { rows, past: owned, owned };
  }

  reserve(): void {}

  restrict(mask: ArrayLike<number>, nextPositions: readonly number[]): void {
    this.state.rows.restrict(mask, nextPositions);
  }

  checkpoint(): void {
    if (this.saved && this.saved.owned !== this.state.owned) disposeAll(this.saved.owned);
    this.saved = { ...this.state, rows: this.state.rows.copy() };
  }

  rollback(): void {
    this.release(this.state);
    this.state = this.saved ? { ...this.saved, rows: this.saved.rows.copy() } : this.empty();
  }

  clear(): void {
    this.release(this.state);
    disposeAll(this.saved?.owned);
    this.saved = undefined;
    this.state = this.empty();
  }

  /** Disposes a state's tensors unless the checkpoint holds them. */
  private release(state: State): void {
    if (state.owned !== this.saved?.owned) disposeAll(state.owned);
  }

  private empty(): State {
    return { rows: new KvCacheRows(this.rows), past: emptyPast({ llm: this.llm }, this.rows), owned: undefined };
  }
}
