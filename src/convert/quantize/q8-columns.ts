import { InvalidModelError } from '../../errors/invalid-model-error.js';

/** A torch `[N, K]` weight as com.microsoft DynamicQuantizeMatMul's B: int8 `[K, N]`, one scale per column. */
export interface Q8Weight {
  readonly n: number;
  readonly k: number;
  /** `[K, N]` row-major int8 codes (the weight transposed), symmetric: value ≈ code · scale[n]. */
  readonly codes: Int8Array;
  /** `[N]` float32: the output channel's largest magnitude ÷ 127. */
  readonly scales: Float32Array;
}

/**
 * Symmetric per-output-channel int8 (zero point 0, codes in −127…127): the layout ONNX Runtime's
 * int8 GEMM (VNNI on x86) reads with dynamically quantized uint8 activations. −128 is never used,
 * so negating a code cannot overflow. An all-zero channel gets scale 1 (codes 0).
 */
export function quantizeQ8(weight: Float32Array, n: number, k: number): Q8Weight {
  if (weight.length !== n * k) throw new InvalidModelError(`q8: weight has ${weight.length} values, expected ${n}×${k}`);
  const codes = new Int8Array(k * n);
  const scales = new Float32Array(n);
  for (let row = 0; row < n; row++) {
    let largest = 0;
    for (let col = 0; col < k; col++) largest = Math.max(largest, Math.abs(weight[row * k + col]));
    if (!Number.isFinite(largest)) throw new InvalidModelError(`q8: output channel ${row} holds a non-finite value`);
    const scale = largest > 0 ? Math.fround(largest / 127) : 1;
    scales[row] = scale;
    for (let col = 0; col < k; col++) codes[col * n + row] = Math.max(-127, Math.min(127, Math.round(weight[row * k + col] / scale)));
  }
  return { n, k, codes, scales };
}
