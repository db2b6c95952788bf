/**
 * Whole-tensor error for lossy dtypes: ‖actual − expected‖₂ / ‖expected‖₂. Per-element relative
 * error is meaningless for 4-bit weights (values near zero dominate it), so fp16/q4 bounds use this.
 */
export function relativeRmsError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let error = 0;
  let norm = 0;
  for (let i = 0; i < actual.length; i++) {
    error += (actual[i] - expected[i]) ** 2;
    norm += expected[i] ** 2;
  }
  const result = Math.sqrt(error / norm);
  return Number.isNaN(result) ? Number.POSITIVE_INFINITY : result;
}

/**
 * max |actual − expected| / max |expected|: error relative to the tensor's scale. Used where deep
 * float32 stacks (the VAE's ~30 convolutions) leave ~1e-6 absolute rounding on elements near zero,
 * which a per-element relative measure would inflate.
 */
export function scaledMaxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let error = 0;
  let scale = 0;
  for (let i = 0; i < actual.length; i++) {
    const difference = Math.abs(actual[i] - expected[i]);
    if (!(difference <= error)) error = Number.isNaN(difference) ? Number.POSITIVE_INFINITY : difference;
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return error / scale;
}
