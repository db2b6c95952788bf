import { InvalidModelError } from '../errors/invalid-model-error.js';
import { DTYPE_BYTE_SIZE, elementCount, type TensorDtype } from './tensor-dtype.js';

/**
 * safetensors: an 8-byte little-endian header length N, N bytes of JSON, then the tensor bytes.
 * This file only parses and validates; it never touches the file system, so the browser can read
 * `tables-*.safetensors` with it and the Node reader can read one tensor at a time.
 */

/** The reference implementation refuses headers above 100 MB; so do we (a lying length could ask for gigabytes). */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;
export const SAFETENSORS_PREFIX_BYTES = 8;

export const SAFETENSORS_DTYPE_NAMES: Readonly<Record<TensorDtype, string>> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};
const DTYPE_BY_NAME = new Map<string, TensorDtype>(Object.entries(SAFETENSORS_DTYPE_NAMES).map(([dtype, name]) => [name, dtype as TensorDtype]));

export interface SafetensorsTensorInfo {
  readonly name: string;
  readonly dtype: TensorDtype;
  readonly shape: readonly number[];
  /** Byte range relative to the start of the data section. */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  /** Offset of the data section in the file: 8 + header length. */
  readonly dataStart: number;
  /** Tensors in header order. */
  readonly tensors: readonly SafetensorsTensorInfo[];
  readonly metadata: Readonly<Record<string, string>>;
}

/** Reads N from the first 8 bytes and checks it fits the file and the size limit. */
export function readSafetensorsHeaderLength(prefix: Uint8Array, fileSize: number, what = 'safetensors file'): number {
  if (prefix.length < SAFETENSORS_PREFIX_BYTES || fileSize < SAFETENSORS_PREFIX_BYTES) {
    throw new InvalidModelError(`${what} is too short to be safetensors (${fileSize} bytes)`);
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, SAFETENSORS_PREFIX_BYTES);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const length = high * 2 ** 32 + low;
  if (high !== 0 || length > MAX_SAFETENSORS_HEADER_BYTES) {
    throw new InvalidModelError(`${what}: header length ${length} exceeds the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit`);
  }
  if (length < 2) throw new InvalidModelError(`${what}: header length ${length} is too small`);
  if (SAFETENSORS_PREFIX_BYTES + length > fileSize) {
    throw new InvalidModelError(`${what}: header length ${length} runs past the end of the ${fileSize}-byte file`);
  }
  return length;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseEntry(name: string, raw: unknown, what: string): SafetensorsTensorInfo {
  const where = `${what}: tensor "${name}"`;
  if (!isPlainObject(raw)) throw new InvalidModelError(`${where} is not an object`);
  for (const field of Object.keys(raw)) {
    if (field !== 'dtype' && field !== 'shape' && field !== 'data_offsets') {
      throw new InvalidModelError(`${where} has an unknown field "${field}"`);
    }
  }
  const dtype = typeof raw.dtype === 'string' ? DTYPE_BY_NAME.get(raw.dtype) : undefined;
  if (dtype === undefined) throw new InvalidModelError(`${where} has an unsupported dtype ${JSON.stringify(raw.dtype)}`);
  if (!Array.isArray(raw.shape)) throw new InvalidModelError(`${where} has no shape list`);
  const shape = raw.shape as number[];
  const count = elementCount(shape, where);
  const offsets = raw.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((offset) => Number.isSafeInteger(offset) && (offset as number) >= 0)) {
    throw new InvalidModelError(`${where} has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new InvalidModelError(`${where}: data_offsets [${begin}, ${end}] run backwards`);
  const expected = count * DTYPE_BYTE_SIZE[dtype];
  if (end - begin !== expected) {
    throw new InvalidModelError(`${where}: data_offsets cover ${end - begin} bytes but ${dtype} [${shape.join(', ')}] needs ${expected}`);
  }
  return { name, dtype, shape: [...shape], begin, end };
}

/**
 * Parses and validates the JSON header. `dataLength` is the size of the data section (file size
 * − 8 − N). Every tensor must lie inside it, and, as the reference implementation demands, the
 * tensors must tile it exactly: no overlaps (two names aliasing bytes) and no holes (room for a
 * polyglot payload).
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, dataLength: number, what = 'safetensors file'): SafetensorsHeader {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (cause) {
    throw new InvalidModelError(`${what}: header is not valid UTF-8 JSON`, { cause });
  }
  if (!isPlainObject(json)) throw new InvalidModelError(`${what}: header is not a JSON object`);
  let metadata: Record<string, string> = {};
  const tensors: SafetensorsTensorInfo[] = [];
  for (const [name, raw] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isPlainObject(raw) || !Object.values(raw).every((value) => typeof value === 'string')) {
        throw new InvalidModelError(`${what}: __metadata__ must map strings to strings`);
      }
      metadata = { ...(raw as Record<string, string>) };
      continue;
    }
    tensors.push(parseEntry(name, raw, what));
  }
  const byOffset = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const tensor of byOffset) {
    if (tensor.begin < cursor) {
      throw new InvalidModelError(`${what}: tensor "${tensor.name}" overlaps the bytes of another tensor`);
    }
    if (tensor.begin > cursor) {
      throw new InvalidModelError(`${what}: bytes ${cursor}..${tensor.begin} of the data belong to no tensor`);
    }
    cursor = tensor.end;
  }
  if (cursor > dataLength) {
    throw new InvalidModelError(`${what}: tensors need ${cursor} data bytes but the file holds ${dataLength}`);
  }
  if (cursor < dataLength) {
    throw new InvalidModelError(`${what}: ${dataLength - cursor} trailing data bytes belong to no tensor`);
  }
  return { dataStart: SAFETENSORS_PREFIX_BYTES + headerBytes.length, tensors, metadata };
}

export interface DecodedSafetensor {
  readonly dtype: TensorDtype;
  readonly shape: readonly number[];
  /** A view into the decoded buffer (no copy). */
  readonly bytes: Uint8Array;
}

/** Parses a whole safetensors file held in memory (small files: tables, constants). */
export function decodeSafetensors(
  bytes: Uint8Array,
  what = 'safetensors file',
): { readonly header: SafetensorsHeader; readonly tensors: ReadonlyMap<string, DecodedSafetensor> } {
  const headerLength = readSafetensorsHeaderLength(bytes, bytes.length, what);
  const dataStart = SAFETENSORS_PREFIX_BYTES + headerLength;
  const header = parseSafetensorsHeader(bytes.subarray(SAFETENSORS_PREFIX_BYTES, dataStart), bytes.length - dataStart, what);
  const tensors = new Map<string, DecodedSafetensor>();
  for (const info of header.tensors) {
    tensors.set(info.name, {
      dtype: info.dtype,
      shape: info.shape,
      bytes: bytes.subarray(dataStart + info.begin, dataStart + info.end),
    });
  }
  return { header, tensors };
}
