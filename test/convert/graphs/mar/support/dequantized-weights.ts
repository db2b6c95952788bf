import { quantizeQ4, Q4_BLOCK_SIZE } from '../../../../../src/convert/quantize/q4-blocks.js';
import { MemoryWeights } from '../../../../../src/convert/graphs/weights.js';

/**
 * The weights a q4 graph effectively multiplies by: every 2-D weight accepted by `shouldQuantize`
 * replaced by its 4-bit round trip `(code − zero point)·scale`, decoded here from the packed
 * bytes. A float64 reference run on these isolates graph wiring from quantisation loss.
 */
export function dequantizedWeights(
  source: Record<string, { shape: number[]; data: Float32Array }>,
  shouldQuantize: (name: string) => boolean,
  scaleType: 'float32' | 'float16' = 'float32',
): MemoryWeights {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, tensor] of Object.entries(source)) {
    const shape = [...tensor.shape];
    let data = tensor.data;
    if (shape.length === 2 && name.endsWith('.weight') && shouldQuantize(name)) data = roundTrip(data, shape[0], shape[1], scaleType);
    tensors[name] = { shape, data };
  }
  return new MemoryWeights(tensors);
}

function roundTrip(weight: Float32Array, n: number, k: number, scaleType: 'float32' | 'float16'): Float32Array {
  const q = quantizeQ4(weight, n, k, { scaleType });
  const out = new Float32Array(n * k);
  const zeroBytesPerRow = Math.ceil(q.blocksPerRow / 2);
  for (let row = 0; row < n; row++)
    for (let i = 0; i < k; i++) {
      const block = Math.floor(i / Q4_BLOCK_SIZE);
      const within = i % Q4_BLOCK_SIZE;
      const byte = q.packed[(row * q.blocksPerRow + block) * (Q4_BLOCK_SIZE / 2) + (within >> 1)];
      const code = within & 1 ? byte >> 4 : byte & 15;
      const zeroByte = q.zeroPoints ? q.zeroPoints[row * zeroBytesPerRow + (block >> 1)] : 8;
      const zeroPoint = q.zeroPoints ? (block & 1 ? zeroByte >> 4 : zeroByte & 15) : 8;
      out[row * k + i] = (code - zeroPoint) * q.scales[row * q.blocksPerRow + block];
    }
  return out;
}
