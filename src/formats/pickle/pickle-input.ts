import { InvalidModelError } from '../../errors/invalid-model-error.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bounds-checked reading of opcode operands: every length is checked against what is left. */
export class PickleInput {
  private position = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get atEnd(): boolean {
    return this.position >= this.bytes.length;
  }

  get remaining(): number {
    return this.bytes.length - this.position;
  }

  fail(message: string): never {
    throw new InvalidModelError(`${this.what}: ${message} (at byte ${this.position})`);
  }

  take(count: number): Uint8Array {
    if (count < 0 || count > this.remaining) this.fail(`needs ${count} more bytes but the data ends`);
    const slice = this.bytes.subarray(this.position, this.position + count);
    this.position += count;
    return slice;
  }

  uint8(): number {
    return this.take(1)[0];
  }

  uint16(): number {
    const offset = this.position;
    this.take(2);
    return this.view.getUint16(offset, true);
  }

  uint32(): number {
    const offset = this.position;
    this.take(4);
    return this.view.getUint32(offset, true);
  }

  uint64(): number {
    const offset = this.position;
    this.take(8);
    const high = this.view.getUint32(offset + 4, true);
    // Lengths past 2^53 cannot be honest: no input is that long.
    if (high > 0x1fffff) this.fail('a length field is impossibly large');
    return high * 2 ** 32 + this.view.getUint32(offset, true);
  }

  /** BINFLOAT is the one big-endian operand in pickle. */
  float64BigEndian(): number {
    const offset = this.position;
    this.take(8);
    return this.view.getFloat64(offset, false);
  }

  text(length: number): string {
    const bytes = this.take(length);
    try {
      return utf8.decode(bytes);
    } catch {
      this.fail('a string is not valid UTF-8');
    }
  }

  /** GLOBAL's operands: a newline-terminated line. */
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.position);
    if (end < 0) this.fail('GLOBAL operand has no newline');
    const value = this.text(end - this.position);
    this.position += 1;
    return value;
  }
}
