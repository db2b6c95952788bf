/**
 * Emits protocol-2 pickle opcodes, the subset `torch.save` itself writes for a state dict.
 * Callers compose objects by hand (global, args tuple, REDUCE), which keeps the output free of
 * anything but what they spell out.
 */
export class PickleEncoder {
  private chunks: number[] = [];
  private memoCount = 0;
  private readonly globals = new Map<string, number>();

  constructor() {
    this.chunks.push(0x80, 2); // PROTO 2
  }

  private bytes(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) this.chunks.push(values[i]);
  }

  private uint32(value: number): void {
    this.chunks.push(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff);
  }

  /** BINPUT / LONG_BINPUT of the top of the stack; returns the memo slot. */
  memoize(): number {
    const slot = this.memoCount++;
    if (slot < 256) this.chunks.push(0x71, slot);
    else {
      this.chunks.push(0x72);
      this.uint32(slot);
    }
    return slot;
  }

  /** BINGET / LONG_BINGET. */
  get(slot: number): void {
    if (slot < 256) this.chunks.push(0x68, slot);
    else {
      this.chunks.push(0x6a);
      this.uint32(slot);
    }
  }

  /** GLOBAL `module\nname\n`, memoized so repeats cost a BINGET, as pickle does. */
  global(module: string, name: string): void {
    const key = `${module}\n${name}\n`;
    const slot = this.globals.get(key);
    if (slot !== undefined) {
      this.get(slot);
      return;
    }
    this.chunks.push(0x63);
    this.bytes(new TextEncoder().encode(key));
    this.globals.set(key, this.memoize());
  }

  mark(): void {
    this.chunks.push(0x28);
  }

  /** TUPLE from the last MARK (any length). */
  tupleFromMark(): void {
    this.chunks.push(0x74);
  }

  emptyTuple(): void {
    this.chunks.push(0x29);
  }

  emptyList(): void {
    this.chunks.push(0x5d);
  }

  /** APPENDS: the items since the last MARK onto the list below it. */
  appends(): void {
    this.chunks.push(0x65);
  }

  emptyDict(): void {
    this.chunks.push(0x7d);
  }

  /** SETITEM: one key/value pair into the dict below them. */
  setItem(): void {
    this.chunks.push(0x73);
  }

  /** SETITEMS: the pairs since the last MARK into the dict below it. */
  setItems(): void {
    this.chunks.push(0x75);
  }

  reduce(): void {
    this.chunks.push(0x52);
  }

  /** BUILD: set the state of the object below the state (PyTorch: a state dict's `_metadata`). */
  build(): void {
    this.chunks.push(0x62);
  }

  persistentId(): void {
    this.chunks.push(0x51);
  }

  bool(value: boolean): void {
    this.chunks.push(value ? 0x88 : 0x89);
  }

  none(): void {
    this.chunks.push(0x4e);
  }

  /** The shortest integer opcode, as pickle picks it (BININT1, BININT2, BININT, else LONG1). */
  int(value: number): void {
    if (!Number.isSafeInteger(value)) throw new RangeError(`pickle int ${value} is not a safe integer`);
    if (value >= 0 && value < 256) this.chunks.push(0x4b, value);
    else if (value >= 0 && value < 65536) this.chunks.push(0x4d, value & 0xff, value >>> 8);
    else if (value >= -0x80000000 && value <= 0x7fffffff) {
      this.chunks.push(0x4a);
      this.uint32(value >>> 0);
    } else {
      // LONG1: minimal two's complement, little-endian.
      const bytes: number[] = [];
      let rest = BigInt(value);
      for (;;) {
        const byte = Number(rest & 0xffn);
        bytes.push(byte);
        rest >>= 8n;
        if ((rest === 0n && (byte & 0x80) === 0) || (rest === -1n && (byte & 0x80) !== 0)) break;
      }
      this.chunks.push(0x8a, bytes.length, ...bytes);
    }
  }

  /** BINUNICODE (protocol 2 has no short form). */
  string(value: string): void {
    const encoded = new TextEncoder().encode(value);
    this.chunks.push(0x58);
    this.uint32(encoded.length);
    this.bytes(encoded);
  }

  /** STOP, and the finished pickle. */
  finish(): Uint8Array {
    this.chunks.push(0x2e);
    const out = Uint8Array.from(this.chunks);
    this.chunks = [];
    return out;
  }
}
