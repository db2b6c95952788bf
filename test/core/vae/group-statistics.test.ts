import { describe, expect, it } from 'vitest';
import { GroupMoments } from '../../../src/core/vae/group-statistics.js';

/** Mean and biased variance of each group of a `[C, H, W]` tensor, two passes in float64. */
function direct(data: Float32Array, groups: number) {
  const size = data.length / groups;
  return Array.from({ length: groups }, (_, g) => {
    let sum = 0;
    for (let i = g * size; i < (g + 1) * size; i++) sum += data[i];
    const mean = sum / size;
    let squares = 0;
    for (let i = g * size; i < (g + 1) * size; i++) squares += (data[i] - mean) ** 2;
    return { mean, variance: squares / size };
  });
}

describe('GroupMoments (strip-wise GroupNorm statistics)', () => {
  it('merges strips of uneven heights into the whole tensor statistics, even with a mean far above the spread', () => {
    const [channels, groups, height, width] = [8, 4, 13, 7];
    const data = new Float32Array(channels * height * width);
    let state = 7;
    for (let i = 0; i < data.length; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      // Group 1 sits at 1e4 with unit spread: a naive Σx² − (Σx)²/n in float32 would lose it.
      data[i] = (state / 2 ** 32 - 0.5) * 2 + (Math.floor(i / (height * width * 2)) === 1 ? 1e4 : 0);
    }
    const moments = new GroupMoments(channels, groups);
    const per = height * width;
    for (const [top, bottom] of [
      [0, 5],
      [5, 6],
      [6, 13],
    ]) {
      const strip = new Float32Array(channels * (bottom - top) * width);
      for (let c = 0; c < channels; c++) strip.set(data.subarray(c * per + top * width, c * per + bottom * width), c * (bottom - top) * width);
      moments.add(strip, bottom - top, width);
    }
    const epsilon = 1e-6;
    const { mean, rstd } = moments.finish(epsilon, { graph: 'test', output: 'y' });
    direct(data, groups).forEach((expected, g) => {
      expect(Math.abs(mean[g] - expected.mean)).toBeLessThanOrEqual(Math.abs(expected.mean) * 1e-7 + 1e-7);
      expect(Math.abs(rstd[g] - 1 / Math.sqrt(expected.variance + epsilon))).toBeLessThan(1e-6 * rstd[g]);
    });
  });

  it('reports a NaN in a strip as a NumericError naming the graph output', () => {
    const moments = new GroupMoments(2, 1);
    moments.add(Float32Array.of(1, Number.NaN), 1, 1);
    expect(() => moments.finish(1e-6, { graph: 'vae_encoder_strips', output: 'p3_y' })).toThrow(
      expect.objectContaining({ code: 'NUMERIC', details: expect.objectContaining({ output: 'p3_y' }) }),
    );
  });
});
