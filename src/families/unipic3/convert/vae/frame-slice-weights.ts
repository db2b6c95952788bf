import { InvalidModelError } from '../../../../errors/invalid-model-error.js';
import type { WeightSource } from '../../../../convert/graphs/weights.js';

/**
 * The Qwen-Image VAE checkpoint seen as a 2-D model for single frames. A causal
 * 3-D conv pads two zero frames in front, so on one frame only the last temporal kernel slice
 * `W[:, :, kt−1]` touches data: 5-D kernels are served as that 4-D slice. RMS-norm gammas
 * (`[C,1,1,1]` / `[C,1,1]`) are served flat. Everything else passes through unchanged.
 */
export class FrameSliceWeights implements WeightSource {
  constructor(private readonly source: WeightSource) {}

  has(name: string): boolean {
    return this.source.has(name);
  }

  shape(name: string): readonly number[] {
    const shape = this.source.shape(name);
    if (shape.length === 5 && name.endsWith('.weight')) return [shape[0], shape[1], shape[3], shape[4]];
    if (name.endsWith('.gamma')) return [shape[0]];
    return shape;
  }

  float32(name: string): Float32Array {
    const shape = this.source.shape(name);
    const data = this.source.float32(name);
    if (name.endsWith('.gamma')) {
      if (shape.slice(1).some((d) => d !== 1)) throw new InvalidModelError(`${name}: expected [C, 1, …], got [${shape.join(', ')}]`);
      return data;
    }
    if (shape.length !== 5 || !name.endsWith('.weight')) return data;
    const [outChannels, inChannels, frames, height, width] = shape;
    if (frames < 1) throw new InvalidModelError(`${name}: empty temporal kernel`);
    const plane = height * width;
    const out = new Float32Array(outChannels * inChannels * plane);
    for (let pair = 0; pair < outChannels * inChannels; pair++) {
      const from = (pair * frames + frames - 1) * plane;
      out.set(data.subarray(from, from + plane), pair * plane);
    }
    return out;
  }
}
