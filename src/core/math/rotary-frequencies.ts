/**
 * Rotary inverse frequencies θ^(−2i/D) rounded the way HF's float32 computation rounds them: the
 * exponent, the power and the reciprocal are each float32 results. Shared by the converter's
 * in-graph RoPE and by runtimes that compute rotary angles on the host (Qwen2.5-VL M-RoPE).
 */
export function inverseFrequencies(headDim: number, theta: number): Float32Array {
  const out = new Float32Array(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) {
    const exponent = Math.fround((2 * i) / headDim);
    out[i] = Math.fround(1 / Math.fround(Math.pow(theta, exponent)));
  }
  return out;
}
