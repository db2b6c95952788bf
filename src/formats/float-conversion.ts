import { InvalidModelError } from '../errors/invalid-model-error.js';
import { DTYPE_BYTE_SIZE, isFloatDtype, type TensorDtype } from './tensor-dtype.js';

// Every platform ONNX Runtime ships for is little-endian, and checkpoints store little-endian
// bytes, so typed-array views over file bytes read correctly without byte swapping.

let halfToSingleBits: Uint32Array | undefined;

/** float16 bit pattern → float32 bit pattern, exact for every input (subnormals, ±0, ±Inf, NaN payloads). */
function halfBitsToSingleBits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >> 10) & 0x1f;
  let mantissa = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent - 15 + 127) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // A float16 subnormal is a float32 normal: shift the leading one into the implicit bit.
  let unbiased = -14;
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1;
    unbiased -= 1;
  }
  return (sign | ((unbiased + 127) << 23) | ((mantissa & 0x3ff) << 13)) >>> 0;
}

function halfTable(): Uint32Array {
  if (!halfToSingleBits) {
    halfToSingleBits = new Uint32Array(65536);
    for (let half = 0; half < 65536; half++) halfToSingleBits[half] = halfBitsToSingleBits(half);
  }
  return halfToSingleBits;
}

export function float16ToFloat32(halves: Uint16Array): Float32Array {
  const table = halfTable();
  const out = new Float32Array(halves.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) outBits[i] = table[halves[i]];
  return out;
}

export function bfloat16ToFloat32(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) outBits[i] = halves[i] << 16;
  return out;
}

/** Round to nearest even; NaN stays a (quiet) NaN with its sign. */
export function float32ToBfloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = bits[i];
    if ((x & 0x7fffffff) > 0x7f800000) {
      out[i] = (x >>> 16) | 0x40;
      continue;
    }
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** Round to nearest even, overflow to ±Inf, underflow through float16 subnormals to ±0. */
export function float32ToFloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = singleBitsToHalfBits(bits[i]);
  return out;
}

function singleBitsToHalfBits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200 | (mantissa >>> 13));
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    let half = full >>> shift;
    const remainder = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && (half & 1) === 1)) half += 1;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and reaches Inf at the top).
  if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1)) half += 1;
  return sign | half;
}

/** A typed-array view needs its offset aligned to the element size; copy when it is not. */
function aligned(bytes: Uint8Array, itemSize: number): Uint8Array {
  return bytes.byteOffset % itemSize === 0 ? bytes : bytes.slice();
}

/**
 * Contiguous little-endian bytes of a float tensor → float32. float16 and bfloat16 widen exactly;
 * float64 rounds to nearest. A float32 input is returned as a view over the same memory.
 */
export function bytesToFloat32(bytes: Uint8Array, dtype: TensorDtype, what = 'tensor'): Float32Array {
  if (!isFloatDtype(dtype)) {
    throw new InvalidModelError(`${what} has dtype ${dtype}; only float tensors convert to float32`);
  }
  const itemSize = DTYPE_BYTE_SIZE[dtype];
  if (bytes.length % itemSize !== 0) {
    throw new InvalidModelError(`${what}: ${bytes.length} bytes is not a whole number of ${dtype} elements`);
  }
  const source = aligned(bytes, itemSize);
  const count = bytes.length / itemSize;
  switch (dtype) {
    case 'float32':
      return new Float32Array(source.buffer, source.byteOffset, count);
    case 'float16':
      return float16ToFloat32(new Uint16Array(source.buffer, source.byteOffset, count));
    case 'bfloat16':
      return bfloat16ToFloat32(new Uint16Array(source.buffer, source.byteOffset, count));
    default:
      return Float32Array.from(new Float64Array(source.buffer, source.byteOffset, count));
  }
}
