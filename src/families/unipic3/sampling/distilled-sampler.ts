import { InvalidInputError } from '../../../errors/invalid-input-error.js';
import { calculateShift, QWEN_IMAGE_SCHEDULER, type QwenSchedulerConfig } from './scheduler-config.js';

const f32 = Math.fround;

/**
 * Times of the DMD / consistency sampler (official `qwen_image_edit_fast/pipeline_qwenimage_edit.py`): float64
 * `t_k = e^μ s / (1 + (e^μ − 1) s)` on `s = linspace(1, 0, N+1)`, no terminal stretch.
 */
export function distilledTimes(steps: number, imageSeqLen: number, config: QwenSchedulerConfig = QWEN_IMAGE_SCHEDULER): Float64Array {
  if (!Number.isInteger(steps) || steps < 1) throw new InvalidInputError(`steps must be a positive integer, got ${steps}`);
  const shift = Math.exp(calculateShift(imageSeqLen, config));
  const times = new Float64Array(steps + 1);
  for (let k = 0; k <= steps; k++) {
    const s = k === steps ? 0 : 1 + k * (-1 / steps);
    times[k] = (shift * s) / (1 + (shift - 1) * s);
  }
  return times;
}

/** The model's timestep at step k: t_k rounded to bfloat16 (the latents' dtype in the official run). */
export function distilledTimestep(times: Float64Array, index: number): number {
  return roundToBfloat16(times[index]);
}

/**
 * One x0 / re-noise step: `x0 = x − τ v`; `x' = (1 − t_{k+1}) x0 + t_{k+1} ε` (ε injected; the
 * official code draws it with the global RNG even on the last step, where t_N = 0 gives x0).
 */
export function distilledStep(x: Float32Array, v: Float32Array, noise: Float32Array, times: Float64Array, index: number): Float32Array {
  if (index < 0 || index + 1 >= times.length) throw new InvalidInputError(`step ${index} is outside the ${times.length - 1}-step schedule`);
  const tau = distilledTimestep(times, index);
  const next = f32(times[index + 1]);
  const keep = f32(1 - times[index + 1]);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const x0 = f32(x[i] - f32(tau * v[i]));
    out[i] = f32(f32(keep * x0) + f32(next * noise[i]));
  }
  return out;
}

/** Round-to-nearest-even to bfloat16, returned as a number. */
export function roundToBfloat16(value: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value);
  const bits = view.getUint32(0);
  const rounded = (bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000;
  view.setUint32(0, rounded >>> 0);
  return view.getFloat32(0);
}
