import { inverseFrequencies } from '../math/rotary-frequencies.js';

/**
 * Qwen2.5-VL 2-D rotary angles `[N, headDim/2]` for one image (transformers `rot_pos_emb`): patches enumerated in
 * merge-unit order, each with (row, column); inverse frequencies of dimension headDim/2 and base 1e4;
 * angles [row·f, column·f] (float32 products, as torch's outer product).
 */
export function visionRotaryAngles(gridH: number, gridW: number, headDim: number, mergeSize = 2): Float32Array {
  const frequencies = inverseFrequencies(headDim / 2, 10000);
  const half = frequencies.length;
  const out = new Float32Array(gridH * gridW * 2 * half);
  let n = 0;
  for (let bh = 0; bh < gridH / mergeSize; bh++) {
    for (let bw = 0; bw < gridW / mergeSize; bw++) {
      for (let mh = 0; mh < mergeSize; mh++) {
        for (let mw = 0; mw < mergeSize; mw++) {
          const row = bh * mergeSize + mh;
          const col = bw * mergeSize + mw;
          for (let i = 0; i < half; i++) {
            out[n * 2 * half + i] = Math.fround(row * frequencies[i]);
            out[n * 2 * half + half + i] = Math.fround(col * frequencies[i]);
          }
          n++;
        }
      }
    }
  }
  return out;
}
