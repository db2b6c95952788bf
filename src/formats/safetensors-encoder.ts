import { InvalidModelError } from '../errors/invalid-model-error.js';
import { SAFETENSORS_DTYPE_NAMES, SAFETENSORS_PREFIX_BYTES } from './safetensors.js';
import { DTYPE_BYTE_SIZE, elementCount, type TensorDtype } from './tensor-dtype.js';

export interface SafetensorsTensorLayout {
  readonly name: string;
  readonly dtype: TensorDtype;
  readonly shape: readonly number[];
}

export interface SafetensorsTensorInput extends SafetensorsTensorLayout {
  /** Contiguous little-endian element bytes. */
  readonly data: Uint8Array;
}

export interface EncodedSafetensorsHeader {
  /** The 8-byte length prefix followed by the JSON header, padded with spaces to a multiple of 8. */
  readonly prefix: Uint8Array;
  /** Byte length of each tensor, in the order given; they follow the prefix back to back. */
  readonly byteLengths: readonly number[];
  readonly dataLength: number;
}

/**
 * Lays tensors out back to back in the given order and builds the header. Padding the JSON
 * with spaces keeps the data section 8-byte aligned, as the reference writer does.
 */
export function encodeSafetensorsHeader(tensors: readonly SafetensorsTensorLayout[], metadata: Readonly<Record<string, string>> = {}): EncodedSafetensorsHeader {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  const byteLengths: number[] = [];
  let cursor = 0;
  const seen = new Set<string>();
  for (const tensor of tensors) {
    if (tensor.name === '__metadata__' || seen.has(tensor.name)) {
      throw new InvalidModelError(`safetensors writer: tensor name "${tensor.name}" is reserved or repeated`);
    }
    seen.add(tensor.name);
    const length = elementCount(tensor.shape, `safetensors writer: tensor "${tensor.name}"`) * DTYPE_BYTE_SIZE[tensor.dtype];
    header[tensor.name] = {
      dtype: SAFETENSORS_DTYPE_NAMES[tensor.dtype],
      shape: [...tensor.shape],
      data_offsets: [cursor, cursor + length],
    };
    byteLengths.push(length);
    cursor += length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((SAFETENSORS_PREFIX_BYTES + json.length) / 8) * 8 - SAFETENSORS_PREFIX_BYTES;
  const prefix = new Uint8Array(SAFETENSORS_PREFIX_BYTES + padded).fill(0x20, SAFETENSORS_PREFIX_BYTES + json.length);
  new DataView(prefix.buffer).setUint32(0, padded, true);
  prefix.set(json, SAFETENSORS_PREFIX_BYTES);
  return { prefix, byteLengths, dataLength: cursor };
}

/** A whole safetensors file in memory (small files: tables, constants, tests). */
export function encodeSafetensors(tensors: readonly SafetensorsTensorInput[], metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const { prefix, byteLengths, dataLength } = encodeSafetensorsHeader(tensors, metadata);
  const out = new Uint8Array(prefix.length + dataLength);
  out.set(prefix);
  let cursor = prefix.length;
  tensors.forEach((tensor, index) => {
    if (tensor.data.length !== byteLengths[index]) {
      throw new InvalidModelError(
        `safetensors writer: tensor "${tensor.name}" has ${tensor.data.length} bytes, ${tensor.dtype} [${tensor.shape.join(', ')}] needs ${byteLengths[index]}`,
      );
    }
    out.set(tensor.data, cursor);
    cursor += tensor.data.length;
  });
  return out;
}
