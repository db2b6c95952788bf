/**
 * Plain float64 building blocks for the graph oracles: straightforward loops over row-major
 * arrays, written from the PyTorch definitions, sharing no code with the graph builders.
 */

/** erf via its everywhere-convergent series erf(x) = 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)); all terms positive, so no cancellation. */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  if (a > 8) return sign;
  let term = a;
  let sum = a;
  for (let n = 1; n < 500 && term > sum * 1e-17; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    sum += term;
  }
  return (sign * 2 * Math.exp(-a * a) * sum) / Math.sqrt(Math.PI);
}

export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** `x [rows, in] · Wᵀ + b` for a torch `[out, in]` weight. */
export function linear(x: ArrayLike<number>, rows: number, weight: ArrayLike<number>, bias: ArrayLike<number> | undefined, out: number): Float64Array {
  const inFeatures = weight.length / out;
  const y = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < out; o++) {
      let sum = bias ? bias[o] : 0;
      for (let i = 0; i < inFeatures; i++) sum += x[r * inFeatures + i] * weight[o * inFeatures + i];
      y[r * out + o] = sum;
    }
  return y;
}

/** torch LayerNorm over the last axis (biased variance). */
export function layerNorm(x: ArrayLike<number>, rows: number, width: number, weight: ArrayLike<number>, bias: ArrayLike<number>, eps: number): Float64Array {
  const y = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < width; i++) mean += x[r * width + i];
    mean /= width;
    let variance = 0;
    for (let i = 0; i < width; i++) variance += (x[r * width + i] - mean) ** 2;
    variance /= width;
    const inverse = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < width; i++) y[r * width + i] = (x[r * width + i] - mean) * inverse * weight[i] + bias[i];
  }
  return y;
}

export function map(x: ArrayLike<number>, f: (value: number) => number): Float64Array {
  return Float64Array.from(x, f);
}

export function add(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  if (a.length !== b.length) throw new Error(`add: ${a.length} vs ${b.length}`);
  return Float64Array.from(a, (v, i) => v + b[i]);
}

/** Softmax of one row in place, max-subtracted. */
export function softmaxInPlace(row: Float64Array): void {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let total = 0;
  for (let i = 0; i < row.length; i++) {
    row[i] = Math.exp(row[i] - max);
    total += row[i];
  }
  for (let i = 0; i < row.length; i++) row[i] /= total;
}
