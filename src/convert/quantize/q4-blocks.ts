import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { float32ToFloat16Bits, roundToFloat16 } from './float16.js';

/** Values per quantisation block along the input (K) axis, as com.microsoft MatMulNBits wants. */
export const Q4_BLOCK_SIZE = 32;

export interface Q4Options {
  /**
   * `false` (default): per-block min/max with a 4-bit zero point, which measured closer to the
   * float weights on random and real-shaped matrices. `true`: zero point fixed at 8, the block's
   * largest-magnitude value mapped to −8, no zero-point tensor stored.
   */
  symmetric?: boolean;
  /** Type the scales are stored in; scales are rounded to it before quantising against them. */
  scaleType?: 'float32' | 'float16';
}

/** A torch `[N, K]` weight in MatMulNBits layout (bits 4, block 32). */
export interface Q4Weight {
  readonly n: number;
  readonly k: number;
  readonly blocksPerRow: number;
  /** `[N, blocksPerRow, 16]`: two 4-bit codes per byte, low nibble first. */
  readonly packed: Uint8Array;
  /** `[N · blocksPerRow]` float32 values (already rounded to half when `scaleType` is float16). */
  readonly scales: Float32Array;
  /** `[N · ceil(blocksPerRow / 2)]`, low nibble first; absent when symmetric (implicit 8). */
  readonly zeroPoints?: Uint8Array;
}

/**
 * Quantise a row-major torch weight `[n, k]` (out, in) blockwise along k. A partial last block is
 * padded with zeros, which MatMulNBits ignores beyond K.
 */
export function quantizeQ4(weight: Float32Array, n: number, k: number, options: Q4Options = {}): Q4Weight {
  if (weight.length !== n * k) throw new InvalidModelError(`q4: weight has ${weight.length} values, expected ${n}×${k}`);
  const symmetric = options.symmetric ?? false;
  const roundScale = options.scaleType === 'float16' ? roundToFloat16 : (v: number) => Math.fround(v);
  const blocksPerRow = Math.ceil(k / Q4_BLOCK_SIZE);
  const packed = new Uint8Array(n * blocksPerRow * (Q4_BLOCK_SIZE / 2));
  const scales = new Float32Array(n * blocksPerRow);
  const zeroBytesPerRow = Math.ceil(blocksPerRow / 2);
  const zeroPoints = symmetric ? undefined : new Uint8Array(n * zeroBytesPerRow);
  const codes = new Uint8Array(Q4_BLOCK_SIZE);

  for (let row = 0; row < n; row++) {
    for (let block = 0; block < blocksPerRow; block++) {
      const start = row * k + block * Q4_BLOCK_SIZE;
      const count = Math.min(Q4_BLOCK_SIZE, k - block * Q4_BLOCK_SIZE);
      let scale: number;
      let zeroPoint: number;
      if (symmetric) {
        let extreme = 0;
        for (let i = 0; i < count; i++) if (Math.abs(weight[start + i]) > Math.abs(extreme)) extreme = weight[start + i];
        scale = roundScale(extreme / -8) + 0; // + 0 turns −0 (all-zero block) into +0
        zeroPoint = 8;
      } else {
        // The range always contains 0 so that zero weights (and padding) stay exactly zero.
        let low = 0;
        let high = 0;
        for (let i = 0; i < count; i++) {
          low = Math.min(low, weight[start + i]);
          high = Math.max(high, weight[start + i]);
        }
        scale = roundScale((high - low) / 15);
        zeroPoint = scale === 0 ? 8 : clampCode(roundHalfEven(-low / scale));
      }
      const inverse = scale === 0 ? 0 : 1 / scale;
      codes.fill(zeroPoint);
      for (let i = 0; i < count; i++) codes[i] = clampCode(roundHalfEven(weight[start + i] * inverse) + zeroPoint);
      const byteBase = (row * blocksPerRow + block) * (Q4_BLOCK_SIZE / 2);
      for (let i = 0; i < Q4_BLOCK_SIZE / 2; i++) packed[byteBase + i] = codes[2 * i] | (codes[2 * i + 1] << 4);
      scales[row * blocksPerRow + block] = scale;
      if (zeroPoints) {
        const index = row * zeroBytesPerRow + (block >> 1);
        zeroPoints[index] |= block & 1 ? zeroPoint << 4 : zeroPoint;
      }
    }
  }
  return { n, k, blocksPerRow, packed, scales, zeroPoints };
}

/** Scales as half-precision bits, for q4f16 graphs. */
export function scalesAsFloat16(weight: Q4Weight): Uint16Array {
  const out = new Uint16Array(weight.scales.length);
  for (let i = 0; i < out.length; i++) out[i] = float32ToFloat16Bits(weight.scales[i]);
  return out;
}

function clampCode(value: number): number {
  return value < 0 ? 0 : value > 15 ? 15 : value;
}

function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The same blocks in com.microsoft GatherBlockQuantized layout (gather axis 0, quantize axis 1):
 * data `[N, ceil(K/2)]` without MatMulNBits' padding of the last block; scales and zero points
 * keep their MatMulNBits order, shaped `[N, blocksPerRow]` and `[N, ceil(blocksPerRow/2)]`.
 */
export function gatherLayout(weight: Q4Weight): Uint8Array {
  const rowBytes = Math.ceil(weight.k / 2);
  const paddedRowBytes = weight.blocksPerRow * (Q4_BLOCK_SIZE / 2);
  if (rowBytes === paddedRowBytes) return weight.packed;
  const out = new Uint8Array(weight.n * rowBytes);
  for (let row = 0; row < weight.n; row++) out.set(weight.packed.subarray(row * paddedRowBytes, row * paddedRowBytes + rowBytes), row * rowBytes);
  return out;
}
