import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/** Where a random draw is used, so an injected source can replay a recorded run. */
export type NoisePurpose =
  | { readonly kind: 'diffusion-start'; readonly iteration: number }
  | { readonly kind: 'diffusion-step'; readonly iteration: number; readonly step: number }
  | { readonly kind: 'token-sample'; readonly position: number }
  /** Flow-matching families: the starting latent of a sampler run (`[1, C, h, w]`). */
  | { readonly kind: 'initial-latent' }
  /** Flow-matching families: the draw of a VAE posterior sample (edit reference, when sampled). */
  | { readonly kind: 'posterior-sample' }
  /** Flow-matching families: the fresh Gaussian a re-noising sampler draws at step `step` (`[1, C, h, w]`). */
  | { readonly kind: 'sampler-noise'; readonly step: number };

/**
 * Randomness of a run. The default is seeded; parity tests inject the orders and Gaussian noise
 * that a PyTorch run recorded (the official code draws them from numpy and torch, which a port
 * cannot reproduce bit for bit).
 */
export interface RandomSource {
  /** A random permutation of 0..n-1 for image row `row` (the generation order). */
  order(row: number, n: number): Int32Array;
  /** `count` standard normal samples (float32). */
  normal(count: number, purpose: NoisePurpose): Float32Array;
  /** One uniform sample in [0, 1). */
  uniform(): number;
}

/** Seeded default: xoroshiro128+ (pure-rand), Fisher–Yates orders, Box–Muller normals. */
export class SeededRandom implements RandomSource {
  private readonly generator: RandomGenerator;
  private spare: number | undefined;

  constructor(seed: number) {
    this.generator = xoroshiro128plus(seed | 0);
  }

  uniform(): number {
    return uniformFloat64(this.generator);
  }

  order(_row: number, n: number): Int32Array {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  normal(count: number, _purpose?: NoisePurpose): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.gaussian();
    return out;
  }

  private gaussian(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    // 1 - u keeps the logarithm's argument in (0, 1].
    const u = 1 - this.uniform();
    const v = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }
}

/** A fresh seed when the caller gives none (reported back in results so a run can be repeated). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}
