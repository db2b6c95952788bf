import type { Dtype } from '../../spec/manifest.js';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import type { GraphBuilder } from '../onnx/graph-builder.js';

/**
 * Read access to checkpoint tensors by their official key names. Implementations may hold bf16,
 * fp16 or fp32 data; graph builders only ever see exact float32 copies.
 */
export interface WeightSource {
  has(name: string): boolean;
  shape(name: string): readonly number[];
  /** Contiguous float32 copy of the tensor (bf16/fp16 widened exactly). */
  float32(name: string): Float32Array;
}

/** In-memory weights, for tests and for tensors the converter derives itself. */
export class MemoryWeights implements WeightSource {
  constructor(private readonly tensors: Record<string, { shape: number[]; data: Float32Array }>) {
    for (const [name, tensor] of Object.entries(tensors)) {
      const count = tensor.shape.reduce((a, b) => a * b, 1);
      if (count !== tensor.data.length) {
        throw new InvalidModelError(`weight ${name}: shape [${tensor.shape.join(', ')}] needs ${count} values, got ${tensor.data.length}`);
      }
    }
  }

  has(name: string): boolean {
    return Object.hasOwn(this.tensors, name);
  }

  shape(name: string): readonly number[] {
    return this.get(name).shape;
  }

  float32(name: string): Float32Array {
    // A copy, so graph code may scale or transpose in place without touching the source.
    return this.get(name).data.slice();
  }

  private get(name: string): { shape: number[]; data: Float32Array } {
    const tensor = this.tensors[name];
    if (!tensor || !this.has(name)) throw new InvalidModelError(`missing weight ${name}`);
    return tensor;
  }
}

export interface GraphContext {
  builder: GraphBuilder;
  weights: WeightSource;
  dtype: Dtype;
}
