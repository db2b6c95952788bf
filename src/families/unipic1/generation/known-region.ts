import type { RandomSource } from '../../../core/random/random-source.js';

/** The known part of a region call: which tokens to regenerate, and the source latents for the rest. */
export interface KnownRegion {
  /** `[N]`, 1 = regenerate (masked), 0 = known from the source. */
  readonly mask: Uint8Array;
  /** The source's scaled VAE latents, `[N, C]` token-major (the VAE encoder's output). */
  readonly latents: Float32Array;
}

export interface SeededLoop {
  /** Per conditional row: a permutation of the masked positions (whole grid without a region). */
  readonly orders: Int32Array[];
  /** `[G, N, C]`: source latents at known positions, zeros at masked ones (as the official loop starts). */
  readonly tokens: Float32Array;
  /** Per conditional row, `[N]`, 1 = still masked. */
  readonly masked: Uint8Array[];
  readonly maskedCount: number;
}

/**
 * The loop's starting state. Without a region it is the official one: every token masked, zeros,
 * and `random.order(row, N)`. With one, `random.order(row, M)` over the M masked tokens is mapped
 * through their raster-order positions, so a full mask draws exactly what a plain call draws.
 */
export function seedRegion(region: KnownRegion | undefined, random: RandomSource, images: number, n: number, channels: number): SeededLoop {
  const tokens = new Float32Array(images * n * channels);
  if (!region) {
    const orders = Array.from({ length: images }, (_, row) => random.order(row, n));
    return { orders, tokens, masked: orders.map(() => new Uint8Array(n).fill(1)), maskedCount: n };
  }
  if (region.mask.length !== n || region.latents.length !== n * channels) {
    throw new Error(`region has ${region.mask.length} mask entries and ${region.latents.length} latent values; the grid needs ${n} and ${n * channels}`);
  }
  const positions: number[] = [];
  for (let p = 0; p < n; p++) if (region.mask[p]) positions.push(p);
  const count = positions.length;
  if (count === 0) throw new Error('a region with nothing masked never reaches the loop');
  const orders = Array.from({ length: images }, (_, row) => {
    const permutation = random.order(row, count);
    return Int32Array.from(permutation, (i) => positions[i]);
  });
  for (let row = 0; row < images; row++) {
    for (let p = 0; p < n; p++) {
      if (!region.mask[p]) tokens.set(region.latents.subarray(p * channels, (p + 1) * channels), (row * n + p) * channels);
    }
  }
  return { orders, tokens, masked: orders.map(() => Uint8Array.from(region.mask)), maskedCount: count };
}
