/**
 * Deterministic, fast pseudo-random fills for benchmark weights. Timing does not depend on the
 * values, only on their being finite and not denormal, so a uniform distribution with the right
 * variance stands in for the Gaussian the tiny-model generator draws (which is ~40× slower: a
 * 1.5B-parameter model would take minutes to fill).
 */

/** 32-bit FNV-1a of a string: per-tensor seeds that do not depend on generation order. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Fill `out` with values of mean `mean` and standard deviation `std` (uniform on
 * mean ± √3·std), from a xorshift32 stream seeded by `seed`.
 */
export function fillUniform(out: Float32Array, seed: number, std: number, mean = 0): Float32Array {
  let state = seed >>> 0 || 0x9e3779b9;
  const width = Math.sqrt(3) * std * 2;
  const offset = mean - width / 2;
  const unit = width / 4294967296;
  for (let i = 0; i < out.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = offset + (state >>> 0) * unit;
  }
  return out;
}
