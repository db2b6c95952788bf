import type { Feed, HostTensor } from '../spec/backend.js';
import { int64 } from './tensor.js';

export interface LlmStep {
  /** `inputs_embeds` of the new positions, `[rows, length, hidden]`. */
  readonly embeds: Feed;
  readonly rows: number;
  /** New positions per row. */
  readonly length: number;
  /** Positions already in the cache (0 for a first call). */
  readonly pastLength: number;
  /** The cache as llm feeds (`past_key_values.{i}.key|value`). */
  readonly past: Readonly<Record<string, Feed>>;
  /**
   * The past's own attention mask, `[rows, pastLength]` row-major (a right-padded prompt batch has
   * zeros); all ones when absent. The new positions always attend.
   */
  readonly pastMask?: ArrayLike<number>;
  /**
   * Each row's position id of its first new token; `pastLength` for every row when absent. A
   * padded prefix continues at each row's unpadded length.
   */
  readonly firstPositions?: readonly number[];
}

/**
 * The feeds of one `llm` graph run (docs/model-format.md): `inputs_embeds`, `attention_mask`
 * `[rows, pastLength + length]`, `position_ids` `[rows, length]` counting on from each row's first
 * position, and the past. One place for what prefill, the MAR block and the decode loop each
 * assembled by hand.
 */
/** The `llm` graph's feeds (its contract: src/spec/llm-graphs.ts). */
export type LlmStepFeeds = {
  readonly inputs_embeds: Feed;
  readonly attention_mask: HostTensor;
  readonly position_ids: HostTensor;
} & { readonly [Name in `past_key_values.${number}.${'key' | 'value'}`]?: Feed };

export function llmStepInputs(step: LlmStep): LlmStepFeeds {
  const { rows, length, pastLength } = step;
  const total = pastLength + length;
  const mask = new Array<number>(rows * total);
  const positions = new Array<number>(rows * length);
  for (let row = 0; row < rows; row++) {
    for (let i = 0; i < pastLength; i++) mask[row * total + i] = step.pastMask ? step.pastMask[row * pastLength + i] : 1;
    const first = step.firstPositions ? step.firstPositions[row] : pastLength;
    for (let i = 0; i < length; i++) {
      mask[row * total + pastLength + i] = 1;
      positions[row * length + i] = first + i;
    }
  }
  return {
    inputs_embeds: step.embeds,
    attention_mask: int64([rows, total], mask),
    position_ids: int64([rows, length], positions),
    ...step.past,
  };
}
