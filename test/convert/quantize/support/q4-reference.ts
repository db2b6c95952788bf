import type { Q4Weight } from '../../../../src/convert/quantize/q4-blocks.js';

/**
 * Float64 dequantisation of a MatMulNBits weight straight from its byte layout (the oracle for q4
 * graphs): w[n, k] = (code − zero point) · scale, codes low nibble first, zero point 8 when absent.
 */
export function dequantizeQ4(weight: Q4Weight): Float64Array {
  const { n, k, blocksPerRow, packed, scales, zeroPoints } = weight;
  const out = new Float64Array(n * k);
  const zeroBytesPerRow = Math.ceil(blocksPerRow / 2);
  for (let row = 0; row < n; row++) {
    for (let column = 0; column < k; column++) {
      const block = Math.floor(column / 32);
      const within = column % 32;
      const byte = packed[(row * blocksPerRow + block) * 16 + Math.floor(within / 2)];
      const code = within % 2 === 0 ? byte & 0x0f : byte >> 4;
      let zeroPoint = 8;
      if (zeroPoints) {
        const zeroByte = zeroPoints[row * zeroBytesPerRow + Math.floor(block / 2)];
        zeroPoint = block % 2 === 0 ? zeroByte & 0x0f : zeroByte >> 4;
      }
      out[row * k + column] = (code - zeroPoint) * scales[row * blocksPerRow + block];
    }
  }
  return out;
}
