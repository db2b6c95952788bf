import type { NoisePurpose, RandomSource } from '../../../src/core/random/random-source.js';
import { goldenFloat32, goldenInt64, goldenShape } from '../../support/reference.js';

/** Replays a PyTorch run's generation orders and Gaussian noise (the oracle's README, "How the orders and noise map"). */
export class ReplayRandom implements RandomSource {
  readonly requests: NoisePurpose[] = [];

  constructor(private readonly run: string) {}

  order(row: number, n: number): Int32Array {
    const [, width] = goldenShape(`${this.run}.orders`);
    if (width !== n) throw new Error(`orders have ${width} positions, asked for ${n}`);
    return Int32Array.from(goldenInt64(`${this.run}.orders`).slice(row * n, (row + 1) * n));
  }

  normal(count: number, purpose: NoisePurpose): Float32Array {
    this.requests.push(purpose);
    if (purpose.kind === 'diffusion-start') return this.check(goldenFloat32(`${this.run}.iter.${purpose.iteration}.noise_start`), count);
    if (purpose.kind === 'diffusion-step') {
      const all = goldenFloat32(`${this.run}.iter.${purpose.iteration}.noise_steps`);
      const [steps] = goldenShape(`${this.run}.iter.${purpose.iteration}.noise_steps`);
      const index = steps - purpose.step; // noise_steps[0] is used at k = 99
      return this.check(all.subarray(index * count, (index + 1) * count), count);
    }
    throw new Error(`unexpected draw ${JSON.stringify(purpose)}`);
  }

  uniform(): number {
    throw new Error('the replayed runs draw no uniform numbers');
  }

  private check(values: Float32Array, count: number): Float32Array {
    if (values.length !== count) throw new Error(`recorded ${values.length} values, the sampler asked for ${count}`);
    return values;
  }
}
