import type { DeviceTensor, Feed, HostTensor } from '../spec/backend.js';
import type { LlmConfig } from '../spec/llm-config.js';
import { llmStepInputs, type LlmStepFeeds } from './llm-step-inputs.js';
import { float32, takeFloat32 } from './tensor.js';

/** Slots added at a time: a step reads at most this many empty slots, and regrowth is rare. */
const DEFAULT_GROWTH = 256;

/**
 * The host side of the in-place KV layout (`LLM_IN_PLACE_GRAPHS`): one pre-allocated key buffer
 * (stored transposed, `[rows, KVH, D, capacity]`) and value buffer (`[rows, KVH, capacity, D]`) per
 * layer, fed whole to every run; each run's new keys/values are written into the next free slots.
 * A step therefore copies only the new positions, whatever the context length. Capacity grows in
 * steps of `growth` slots (one copy of the cache per step of growth); `reserve` avoids even that
 * when the final length is known. Every row holds the same number of positions.
 */
export class InPlaceKvCache {
  private keys: Float32Array[] = [];
  private values: Float32Array[] = [];
  private capacity = 0;
  private filled = 0;

  constructor(
    private readonly llm: Pick<LlmConfig, 'numLayers' | 'numKeyValueHeads' | 'headDim'>,
    readonly rows = 1,
    private readonly growth = DEFAULT_GROWTH,
  ) {}

  /** Positions held per row. */
  get length(): number {
    return this.filled;
  }

  /** The feeds of one `llm` run over `embeds` `[rows, length, hidden]`; positions continue from `length`. */
  stepInputs(embeds: Feed, length: number): LlmStepFeeds {
    this.reserve(this.filled + length);
    const slotMask = new Uint8Array(this.rows * this.capacity);
    for (let row = 0; row < this.rows; row++) slotMask.fill(1, row * this.capacity, row * this.capacity + this.filled);
    return llmStepInputs({
      embeds,
      rows: this.rows,
      length,
      pastLength: this.capacity,
      pastMask: slotMask,
      firstPositions: new Array<number>(this.rows).fill(this.filled),
      past: this.feeds(),
    });
  }

  /** Writes a run's `new_key_values.*` into the free slots (and disposes them). */
  async append(outputs: Readonly<Record<string, DeviceTensor>>, length: number): Promise<void> {
    this.reserve(this.filled + length);
    const { numLayers, numKeyValueHeads: heads, headDim } = this.llm;
    for (let layer = 0; layer < numLayers; layer++) {
      const key = (await takeFloat32(outputs[`new_key_values.${layer}.key`])).data;
      const value = (await takeFloat32(outputs[`new_key_values.${layer}.value`])).data;
      const keyBuffer = this.keys[layer];
      const valueBuffer = this.values[layer];
      for (let rowHead = 0; rowHead < this.rows * heads; rowHead++) {
        for (let position = 0; position < length; position++) {
          const source = (rowHead * length + position) * headDim;
          const slot = this.filled + position;
          valueBuffer.set(value.subarray(source, source + headDim), (rowHead * this.capacity + slot) * headDim);
          const keyBase = rowHead * headDim * this.capacity + slot;
          for (let d = 0; d < headDim; d++) keyBuffer[keyBase + d * this.capacity] = key[source + d];
        }
      }
    }
    this.filled += length;
  }

  /** Grows every buffer to hold `positions` (rounded up to the growth step), keeping the contents. */
  reserve(positions: number): void {
    if (positions <= this.capacity) return;
    const capacity = Math.ceil(positions / this.growth) * this.growth;
    const { numLayers, numKeyValueHeads: heads, headDim } = this.llm;
    for (let layer = 0; layer < numLayers; layer++) {
      const keys = new Float32Array(this.rows * heads * headDim * capacity);
      const values = new Float32Array(this.rows * heads * capacity * headDim);
      if (this.capacity > 0) {
        for (let rowHead = 0; rowHead < this.rows * heads; rowHead++) {
          for (let d = 0; d < headDim; d++) {
            const from = (rowHead * headDim + d) * this.capacity;
            keys.set(this.keys[layer].subarray(from, from + this.filled), (rowHead * headDim + d) * capacity);
          }
          const from = rowHead * this.capacity * headDim;
          values.set(this.values[layer].subarray(from, from + this.filled * headDim), rowHead * capacity * headDim);
        }
      }
      this.keys[layer] = keys;
      this.values[layer] = values;
    }
    this.capacity = capacity;
  }

  /** Frees the buffers. */
  clear(): void {
    this.keys = [];
    this.values = [];
    this.capacity = 0;
    this.filled = 0;
  }

  private feeds(): Record<string, HostTensor> {
    const { numLayers, numKeyValueHeads: heads, headDim } = this.llm;
    const past: Record<string, HostTensor> = {};
    for (let layer = 0; layer < numLayers; layer++) {
      past[`past_key_values.${layer}.key`] = float32([this.rows, heads, headDim, this.capacity], this.keys[layer]);
      past[`past_key_values.${layer}.value`] = float32([this.rows, heads, this.capacity, headDim], this.values[layer]);
    }
    return past;
  }
}
