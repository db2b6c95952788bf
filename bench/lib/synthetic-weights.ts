import { InvalidModelError } from '../../src/errors/invalid-model-error.js';
import type { WeightSource } from '../../src/convert/graphs/weights.js';
import { requiredTensors } from '../../src/families/unipic1/convert/key-map.js';
import type { CheckpointConfig } from '../../src/families/unipic1/convert/checkpoint-config.js';
import { fillUniform, hashString } from './fast-random.js';

/**
 * Seeded random weights with the official key names and shapes of any structure, made on demand
 * one tensor at a time: a full 1.5B model never sits in memory, and the same (key, seed) always
 * gives the same values, so graphs built at different times (ours, the transformers.js layout,
 * the PyTorch oracle's safetensors) share their weights exactly.
 *
 * Scales follow the tiny-model generator: fan-in scaled matrices, norm gains near 1, small
 * biases, unit-order tables and tokens.
 */
export class SyntheticWeights implements WeightSource {
  private readonly shapes: Map<string, number[]>;

  constructor(
    structure: CheckpointConfig,
    private readonly seed = 1234,
  ) {
    this.shapes = requiredTensors(structure);
  }

  get names(): string[] {
    return [...this.shapes.keys()];
  }

  has(name: string): boolean {
    return this.shapes.has(name);
  }

  shape(name: string): readonly number[] {
    const shape = this.shapes.get(name);
    if (!shape) throw new InvalidModelError(`missing weight ${name}`);
    return shape;
  }

  float32(name: string): Float32Array {
    const shape = this.shape(name);
    const count = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(count);
    const seed = (hashString(name) ^ Math.imul(this.seed, 0x9e3779b1)) >>> 0;
    const { std, mean } = scaleOf(name, shape);
    return fillUniform(out, seed, std, mean);
  }
}

function scaleOf(name: string, shape: readonly number[]): { std: number; mean: number } {
  const last = name.split('.').pop();
  if (/pos_embed_learned|fake_latent|mask_token|embed_tokens/.test(name)) return { std: 0.5, mean: 0 };
  if (last === 'weight' && shape.length === 1) return { std: 0.1, mean: 1 };
  if (last === 'bias') return { std: 0.02, mean: 0 };
  if (shape.length >= 2) return { std: 1 / Math.sqrt(shape.slice(1).reduce((a, b) => a * b, 1)), mean: 0 };
  return { std: 0.02, mean: 0 };
}
