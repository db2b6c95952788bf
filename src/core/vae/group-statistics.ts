import { NumericError } from '../../errors/numeric-error.js';

/** Per-group mean and 1/√(variance + ε) of a `[C, H, W]` tensor, as float32 feeds. */
export interface GroupStatistics {
  readonly mean: Float32Array;
  readonly rstd: Float32Array;
}

/** The graph output a tensor's statistics were taken from, for the error a non-finite value raises. */
export interface StatisticsSource {
  readonly graph: string;
  readonly output: string;
}

/**
 * torch GroupNorm's statistics (biased variance) of a `[C, H, W]` tensor built strip by strip:
 * each strip `[C, rows, W]` adds, per group, its count, mean and sum of squared deviations about
 * that mean (one pass of shifted sums while the strip is in cache), merged in float64 with Chan et
 * al.'s pairwise update, so a large mean never cancels the variance.
 */
export class GroupMoments {
  private readonly count: Float64Array;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;

  constructor(
    private readonly channels: number,
    private readonly groups: number,
  ) {
    this.count = new Float64Array(groups);
    this.mean = new Float64Array(groups);
    this.m2 = new Float64Array(groups);
  }

  add(strip: Float32Array, rows: number, width: number): void {
    if (this.channels % this.groups !== 0) return;
    const size = (this.channels / this.groups) * rows * width;
    for (let g = 0; g < this.groups; g++) {
      const start = g * size;
      const end = start + size;
      // One pass of sums about the group's first value (shifted, so a large mean does not cancel
      // the variance): half the memory traffic of a mean pass and a deviation pass.
      const shift = strip[start];
      // Four independent accumulators: one chain of dependent float64 adds runs at a quarter speed.
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let q0 = 0;
      let q1 = 0;
      let q2 = 0;
      let q3 = 0;
      let i = start;
      for (; i + 3 < end; i += 4) {
        const d0 = strip[i] - shift;
        const d1 = strip[i + 1] - shift;
        const d2 = strip[i + 2] - shift;
        const d3 = strip[i + 3] - shift;
        s0 += d0;
        s1 += d1;
        s2 += d2;
        s3 += d3;
        q0 += d0 * d0;
        q1 += d1 * d1;
        q2 += d2 * d2;
        q3 += d3 * d3;
      }
      for (; i < end; i++) {
        const d = strip[i] - shift;
        s0 += d;
        q0 += d * d;
      }
      const sum = s0 + s1 + s2 + s3;
      const squares = q0 + q1 + q2 + q3;
      this.merge(g, size, shift + sum / size, Math.max(0, squares - (sum * sum) / size));
    }
  }

  /** A strip's per-group mean and sum of squared deviations, reduced by the graph (`count` values per group). */
  addMoments(count: number, mean: Float32Array, m2: Float32Array): void {
    if (mean.length !== this.groups || m2.length !== this.groups)
      throw new RangeError(`strip moments of ${mean.length}/${m2.length} groups, expected ${this.groups}`);
    for (let g = 0; g < this.groups; g++) this.merge(g, count, mean[g], m2[g]);
  }

  private merge(g: number, size: number, mean: number, m2: number): void {
    const n = this.count[g];
    const total = n + size;
    const delta = mean - this.mean[g];
    this.mean[g] += (delta * size) / total;
    this.m2[g] += m2 + (delta * delta * n * size) / total;
    this.count[g] = total;
  }

  /** Mean and 1/√(var + ε) per group; a NaN or infinity is reported as `source`'s (the graph output the tensor came from). */
  finish(epsilon: number, source: StatisticsSource): GroupStatistics {
    const mean = new Float32Array(this.groups);
    const rstd = new Float32Array(this.groups);
    for (let g = 0; g < this.groups; g++) {
      mean[g] = this.mean[g];
      rstd[g] = 1 / Math.sqrt(this.m2[g] / this.count[g] + epsilon);
      if (!Number.isFinite(mean[g]) || !Number.isFinite(rstd[g])) {
        throw new NumericError(`${source.graph} output ${source.output} produced a non-finite value (group ${g} statistics)`, {
          details: { graph: source.graph, output: source.output, index: g },
        });
      }
    }
    return { mean, rstd };
  }
}

/** The same statistics of a whole `[C, H, W]` tensor at once (the head's output). */
export function groupStatistics(data: Float32Array, channels: number, groups: number, epsilon: number, source: StatisticsSource): GroupStatistics {
  if (channels % groups !== 0) throw new RangeError(`${channels} channels do not split into ${groups} groups`);
  const moments = new GroupMoments(channels, groups);
  moments.add(data, 1, data.length / channels);
  return moments.finish(epsilon, source);
}
