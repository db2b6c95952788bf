import type { WeightSource } from './weights.js';

/** A weight source that presents some tensors under another (same-size) shape, e.g. a 2×2 patch conv as a linear. */
export function withShapes(weights: WeightSource, shapes: Readonly<Record<string, readonly number[]>>): WeightSource {
  return {
    has: (name) => weights.has(name),
    shape: (name) => shapes[name] ?? weights.shape(name),
    float32: (name) => weights.float32(name),
  };
}
