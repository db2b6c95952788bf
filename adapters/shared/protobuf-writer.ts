/**
 * Just enough protobuf encoding to write the adapters' probe graphs. The adapters must not pull
 * onnx-proto (protobufjs) into every bundle only to build a one-node model, and browser code may
 * not use the converter's graph builder (it streams weights through `node:fs`).
 */
const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

export class ProtobufWriter {
  private readonly bytes: number[] = [];

  /** An int32/int64/enum field; values here are small non-negative integers. */
  varint(field: number, value: number): this {
    this.tag(field, WIRE_VARINT);
    this.writeVarint(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  message(field: number, message: ProtobufWriter): this {
    return this.bytesField(field, message.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }

  private bytesField(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.writeVarint(value.length);
    for (const byte of value) this.bytes.push(byte);
    return this;
  }

  private tag(field: number, wireType: number): void {
    this.writeVarint(field * 8 + wireType);
  }

  private writeVarint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint out of range: ${value}`);
    let remaining = value;
    while (remaining >= 0x80) {
      this.bytes.push((remaining % 0x80) | 0x80);
      remaining = Math.floor(remaining / 0x80);
    }
    this.bytes.push(remaining);
  }
}
