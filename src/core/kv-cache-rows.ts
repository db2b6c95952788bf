/**
 * Which held positions each row of a KV cache attends and where its positions continue: all held
 * slots and `length` for every row, until `restrict` gives rows their own (a right-padded prompt
 * batch, whose pads stay in the cache but are masked). Shared by both cache kinds.
 */
export class KvCacheRows {
  private filled = 0;
  /** Per row, 1/0 for each held slot; absent while every slot attends. */
  private masks: number[][] | undefined;
  /** Per row, the position id of its next new token; absent while it is `length`. */
  private next: number[] | undefined;

  constructor(readonly rows: number) {}

  get length(): number {
    return this.filled;
  }

  append(length: number): void {
    this.filled += length;
    if (this.masks) for (const mask of this.masks) mask.push(...new Array<number>(length).fill(1));
    if (this.next) this.next = this.next.map((position) => position + length);
  }

  restrict(mask: ArrayLike<number>, nextPositions: readonly number[]): void {
    if (mask.length !== this.rows * this.filled || nextPositions.length !== this.rows) {
      throw new RangeError(`a cache restriction needs ${this.rows}×${this.filled} mask entries and ${this.rows} positions`);
    }
    this.masks = Array.from({ length: this.rows }, (_, row) => Array.from({ length: this.filled }, (_, i) => (mask[row * this.filled + i] ? 1 : 0)));
    this.next = [...nextPositions];
  }

  /** `[rows, slots]` row-major: each row's mask over its held slots, 0 beyond them. */
  slotMask(slots: number): Uint8Array {
    const out = new Uint8Array(this.rows * slots);
    for (let row = 0; row < this.rows; row++) {
      if (this.masks) out.set(this.masks[row], row * slots);
      else out.fill(1, row * slots, row * slots + this.filled);
    }
    return out;
  }

  /** Each row's first new position id, or undefined when it is `length` for every row. */
  firstPositions(): readonly number[] | undefined {
    return this.next;
  }

  copy(): KvCacheRows {
    const copy = new KvCacheRows(this.rows);
    copy.filled = this.filled;
    copy.masks = this.masks?.map((mask) => mask.slice());
    copy.next = this.next?.slice();
    return copy;
  }
}
