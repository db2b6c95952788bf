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
