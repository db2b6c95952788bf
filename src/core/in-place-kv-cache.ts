import type { DeviceTensor, Feed, HostTensor } from '../spec/backend.js';
import type { LlmConfig } from '../spec/llm-config.js';
import { KvCacheRows } from './kv-cache-rows.js';
import type { LlmKvCache } from './llm-kv-cache.js';
import { llmStepInputs, type LlmStepFeeds } from './llm-step-inputs.js';
import { float32, takeFloat32 } from './tensor.js';
import type { InPlaceKvLayout } from '../spec/manifest.js';
import { regrowSlots, slotBufferDims, type SlotBufferShape, type SlotOrientation, writeSlots } from './kv-slot-buffer.js';

/** Slots added at a time when an append outgrows the buffers: a step reads at most this many empty slots, and regrowth is rare. */
const DEFAULT_GROWTH = 256;

/** How each buffer of an in-place layout lies (`LLM_IN_PLACE_GRAPHS`, `LLM_IN_PLACE_KEYS_TRANSPOSED_GRAPHS`). */
const ORIENTATIONS: Record<InPlaceKvLayout, { readonly key: SlotOrientation; readonly value: SlotOrientation }> = {
  'values-transposed': { key: 'slots-major', value: 'dims-major' },
  'keys-transposed': { key: 'dims-major', value: 'slots-major' },
};

/**
 * The host side of the in-place KV layout (`LLM_IN_PLACE_GRAPHS`): one pre-allocated key buffer
 * and value buffer per layer, in the folder's `layout` (`values-transposed`: keys
 * `[rows, KVH, capacity, D]`, values `[rows, KVH, D, capacity]`; `keys-transposed` the other way
 * round), fed whole to every run; each run's new keys/values are written into the next free slots.
 * A step therefore copies only the new positions, whatever the context length. When an append
 * outgrows the buffers they grow by `growth` slots (one copy of the cache per step of growth);
 * `reserve` sizes them exactly when the final length is known. Slots past the held positions, and
 * any a row's `restrict` mask excludes, are masked out by the graph.
 */
export class InPlaceKvCache implements LlmKvCache {
  readonly kind = 'in-place';
  readonly keepOutputsOnDevice = false;
  readonly outputNames: readonly string[];
  private keys: Float32Array[] = [];
  private values: Float32Array[] = [];
  private capacity = 0;
  private layout: KvCacheRows;
  private saved: KvCacheRows | undefined;
  private readonly keyShape: SlotBufferShape;
  private readonly valueShape: SlotBufferShape;

  constructor(
    private readonly llm: Pick<LlmConfig, 'numLayers' | 'numKeyValueHeads' | 'headDim'>,
    readonly rows = 1,
    private readonly growth = DEFAULT_GROWTH,
    readonly bufferLayout: InPlaceKvLayout = 'values-transposed',
  ) {
    this.layout = new KvCacheRows(rows);
    this.outputNames = Array.from({ length: llm.numLayers }, (_, i) => [`new_key_values.${i}.key`, `new_key_values.${i}.value`]).flat();
    const heads = rows * llm.numKeyValueHeads;
    this.keyShape = { orientation: ORIENTATIONS[bufferLayout].key, heads, headDim: llm.headDim };
    this.valueShape = { orientation: ORIENTATIONS[bufferLayout].value, heads, headDim: llm.headDim };
  }

  /** Positions held per row. */
  get length(): number {
    return this.layout.length;
  }

  /** Slots each buffer has room for. */
  get slots(): number {
    return this.capacity;
  }

  /** The feeds of one `llm` run over `embeds` `[rows, length, hidden]`; positions continue from `length`. */
  stepInputs(embeds: Feed, length: number): LlmStepFeeds {
    const firstPositions = this.layout.firstPositions();
    return llmStepInputs({
      embeds,
      rows: this.rows,
      length,
      pastLength: this.capacity,
      pastMask: this.layout.slotMask(this.capacity),
      firstPositions: firstPositions ?? new Array<number>(this.rows).fill(this.layout.length),
      past: this.feeds(),
    });
  }

  /** Writes a run's `new_key_values.*` into the free slots (and disposes them). */
  async append(outputs: Readonly<Record<string, DeviceTensor>>, length: number): Promise<void> {
    const filled = this.layout.length;
    if (filled + length > this.capacity) this.reserve(Math.ceil((filled + length) / this.growth) * this.growth);
    for (let layer = 0; layer < this.llm.numLayers; layer++) {
      const key = (await takeFloat32(outputs[`new_key_values.${layer}.key`])).data;
      const value = (await takeFloat32(outputs[`new_key_values.${layer}.value`])).data;
      writeSlots(this.keys[layer], this.capacity, this.keyShape, key, filled, length);
      writeSlots(this.values[layer], this.capacity, this.valueShape, value, filled, length);
    }
    this.layout.append(length);
  }

  /** Grows every buffer to exactly `positions` slots when it has fewer, keeping the contents. */
  reserve(positions: number): void {
    if (positions <= this.capacity) return;
    const filled = this.layout.length;
    for (let layer = 0; layer < this.llm.numLayers; layer++) {
      this.keys[layer] = regrowSlots(this.keys[layer], this.capacity, positions, this.keyShape, filled);
      this.values[layer] = regrowSlots(this.values[layer], this.capacity, positions, this.valueShape, filled);
    }
    this.capacity = positions;
  }

  restrict(mask: ArrayLike<number>, nextPositions: readonly number[]): void {
    this.layout.restrict(mask, nextPositions);
  }

  /** Remembers how many positions are held; `rollback` forgets later ones (their slots are overwritten). */
  checkpoint(): void {
    this.saved = this.layout.copy();
  }

  rollback(): void {
    this.layout = this.saved ? this.saved.copy() : new KvCacheRows(this.rows);
  }

  /** Frees the buffers. */
  clear(): void {
    this.keys = [];
    this.values = [];
    this.capacity = 0;
    this.layout = new KvCacheRows(this.rows);
    this.saved = undefined;
  }

  private feeds(): Record<string, HostTensor> {
    const { numLayers, numKeyValueHeads: heads, headDim } = this.llm;
    const past: Record<string, HostTensor> = {};
    for (let layer = 0; layer < numLayers; layer++) {
      const keys = this.keys[layer] ?? new Float32Array(0);
      const values = this.values[layer] ?? new Float32Array(0);
      past[`past_key_values.${layer}.key`] = float32(slotBufferDims(this.keyShape.orientation, this.rows, heads, headDim, this.capacity), keys);
      past[`past_key_values.${layer}.value`] = float32(slotBufferDims(this.valueShape.orientation, this.rows, heads, headDim, this.capacity), values);
    }
    return past;
  }
}
