import { closeSync, openSync, writeSync } from 'node:fs';
import { float32ToFloat16Bits } from '../../src/convert/quantize/float16.js';

/**
 * A GGUF v3 writer (the llama.cpp file format), enough for the decode benchmark: scalar, string
 * and array metadata, and F32 / F16 / Q4_0 tensors streamed one at a time, so a 1.5B model never
 * sits in memory. Layout per ggml's gguf.cpp: header, metadata, tensor infos, then the data section
 * aligned to `general.alignment` (32), each tensor at an aligned offset inside it.
 */

export type GgmlType = 'F32' | 'F16' | 'Q4_0';

/** ggml_type ids and block geometry (elements per block, bytes per block). */
const GGML_TYPES: Record<GgmlType, { id: number; blockElements: number; blockBytes: number }> = {
  F32: { id: 0, blockElements: 1, blockBytes: 4 },
  F16: { id: 1, blockElements: 1, blockBytes: 2 },
  Q4_0: { id: 2, blockElements: 32, blockBytes: 18 },
};

export type GgufValue =
  | { readonly type: 'u32'; readonly value: number }
  | { readonly type: 'f32'; readonly value: number }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'string[]'; readonly value: readonly string[] }
  | { readonly type: 'i32[]'; readonly value: ArrayLike<number> };

export interface GgufTensor {
  readonly name: string;
  /** Row-major (PyTorch) shape; GGUF stores it innermost first. */
  readonly shape: readonly number[];
  readonly type: GgmlType;
  /** Produces the float32 values when the tensor is written (one tensor alive at a time). */
  readonly values: () => Float32Array;
}

const ALIGNMENT = 32;
const VALUE_TYPE = { u32: 4, f32: 6, bool: 7, string: 8, array: 9, i32: 5 } as const;

export function ggufTensorBytes(shape: readonly number[], type: GgmlType): number {
  const { blockElements, blockBytes } = GGML_TYPES[type];
  const count = shape.reduce((a, b) => a * b, 1);
  if (shape[shape.length - 1] % blockElements !== 0) throw new Error(`GGUF ${type}: row length ${shape[shape.length - 1]} is not a multiple of ${blockElements}`);
  return (count / blockElements) * blockBytes;
}

/** Writes `path`; returns the bytes of tensor data written. */
export function writeGguf(path: string, metadata: ReadonlyArray<readonly [string, GgufValue]>, tensors: readonly GgufTensor[]): number {
  const header = new ByteWriter();
  header.u32(0x46554747); // "GGUF"
  header.u32(3);
  header.u64(tensors.length);
  header.u64(metadata.length + 1);
  writeKeyValue(header, 'general.alignment', { type: 'u32', value: ALIGNMENT });
  for (const [key, value] of metadata) writeKeyValue(header, key, value);
  let offset = 0;
  const offsets: number[] = [];
  for (const tensor of tensors) {
    header.string(tensor.name);
    header.u32(tensor.shape.length);
    for (const dim of [...tensor.shape].reverse()) header.u64(dim);
    header.u32(GGML_TYPES[tensor.type].id);
    header.u64(offset);
    offsets.push(offset);
    offset = align(offset + ggufTensorBytes(tensor.shape, tensor.type));
  }
  const fd = openSync(path, 'w');
  try {
    const head = header.bytes();
    writeSync(fd, head);
    let position = head.length;
    const dataStart = align(position);
    position += writePadding(fd, dataStart - position);
    for (const [i, tensor] of tensors.entries()) {
      position += writePadding(fd, dataStart + offsets[i] - position);
      const bytes = encodeTensor(tensor.values(), tensor.shape, tensor.type);
      writeSync(fd, bytes);
      position += bytes.length;
    }
    return position - dataStart;
  } finally {
    closeSync(fd);
  }
}

/** Values → ggml bytes. Q4_0 follows ggml's quantize_row_q4_0_ref bit for bit. */
export function encodeTensor(values: Float32Array, shape: readonly number[], type: GgmlType): Uint8Array {
  const expected = shape.reduce((a, b) => a * b, 1);
  if (values.length !== expected) throw new Error(`GGUF tensor: ${values.length} values for shape [${shape.join(', ')}]`);
  if (type === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (type === 'F16') {
    const out = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = float32ToFloat16Bits(values[i]);
    return new Uint8Array(out.buffer);
  }
  return quantizeQ4_0(values);
}

function quantizeQ4_0(values: Float32Array): Uint8Array {
  const blocks = values.length / 32;
  const out = new Uint8Array(blocks * 18);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const base = b * 32;
    let absMax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = values[base + j];
      if (Math.abs(v) > absMax) {
        absMax = Math.abs(v);
        max = v;
      }
    }
    const d = max / -8;
    const inverse = d !== 0 ? Math.fround(1 / d) : 0;
    view.setUint16(b * 18, float32ToFloat16Bits(d), true);
    for (let j = 0; j < 16; j++) {
      // ggml: MIN(15, (int8_t)(x*id + 8.5f)) — truncation toward zero, in float32.
      const low = Math.min(15, Math.trunc(Math.fround(Math.fround(values[base + j] * inverse) + 8.5)));
      const high = Math.min(15, Math.trunc(Math.fround(Math.fround(values[base + 16 + j] * inverse) + 8.5)));
      out[b * 18 + 2 + j] = low | (high << 4);
    }
  }
  return out;
}

function writeKeyValue(writer: ByteWriter, key: string, value: GgufValue): void {
  writer.string(key);
  switch (value.type) {
    case 'u32':
      writer.u32(VALUE_TYPE.u32);
      writer.u32(value.value);
      return;
    case 'f32':
      writer.u32(VALUE_TYPE.f32);
      writer.f32(value.value);
      return;
    case 'bool':
      writer.u32(VALUE_TYPE.bool);
      writer.u8(value.value ? 1 : 0);
      return;
    case 'string':
      writer.u32(VALUE_TYPE.string);
      writer.string(value.value);
      return;
    case 'string[]':
      writer.u32(VALUE_TYPE.array);
      writer.u32(VALUE_TYPE.string);
      writer.u64(value.value.length);
      for (const item of value.value) writer.string(item);
      return;
    case 'i32[]':
      writer.u32(VALUE_TYPE.array);
      writer.u32(VALUE_TYPE.i32);
      writer.u64(value.value.length);
      for (let i = 0; i < value.value.length; i++) writer.i32(value.value[i]);
      return;
  }
}

function align(offset: number): number {
  return Math.ceil(offset / ALIGNMENT) * ALIGNMENT;
}

function writePadding(fd: number, bytes: number): number {
  if (bytes > 0) writeSync(fd, new Uint8Array(bytes));
  return bytes;
}

/** Little-endian byte builder for the header (metadata and tensor infos, a few MB). */
class ByteWriter {
  private chunks: Uint8Array[] = [];
  private readonly encoder = new TextEncoder();

  u8(value: number): void {
    this.chunks.push(Uint8Array.of(value));
  }
  u32(value: number): void {
    this.fixed(4, (view) => view.setUint32(0, value, true));
  }
  i32(value: number): void {
    this.fixed(4, (view) => view.setInt32(0, value, true));
  }
  f32(value: number): void {
    this.fixed(4, (view) => view.setFloat32(0, value, true));
  }
  u64(value: number): void {
    this.fixed(8, (view) => view.setBigUint64(0, BigInt(value), true));
  }
  string(value: string): void {
    const bytes = this.encoder.encode(value);
    this.u64(bytes.length);
    this.chunks.push(bytes);
  }
  bytes(): Uint8Array {
    const total = this.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
  private fixed(size: number, set: (view: DataView) => void): void {
    const bytes = new Uint8Array(size);
    set(new DataView(bytes.buffer));
    this.chunks.push(bytes);
  }
}
