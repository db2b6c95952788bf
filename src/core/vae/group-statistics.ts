/** Per-group mean and 1/√(variance + ε) of a `[C, H, W]` tensor, as float32 feeds. */
export interface GroupStatistics {
  readonly mean: Float32Array;
  readonly rstd: Float32Array;
}

/**
 * torch GroupNorm's statistics over a whole image (biased variance), accumulated in float64: in
 * `[C, H, W]` layout each group is one contiguous run of `C/G·H·W` values. Two passes (mean, then
 * squared deviations) so a large mean does not cancel the variance.
 */
export function groupStatistics(data: Float32Array, channels: number, groups: number, epsilon: number): GroupStatistics {
  const size = data.length / groups;
  if (channels % groups !== 0 || !Number.isInteger(size)) throw new RangeError(`${channels} channels do not split into ${groups} groups`);
  const mean = new Float32Array(groups);
  const rstd = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    const start = g * size;
    const end = start + size;
    let sum = 0;
    for (let i = start; i < end; i++) sum += data[i];
    const m = sum / size;
    let squares = 0;
    for (let i = start; i < end; i++) {
      const d = data[i] - m;
      squares += d * d;
    }
    mean[g] = m;
    rstd[g] = 1 / Math.sqrt(squares / size + epsilon);
  }
  return { mean, rstd };
}
