import { InvalidInputError } from '../../../errors/invalid-input-error.js';
import { roundToBfloat16 } from './distilled-sampler.js';
import { calculateShift, QWEN_IMAGE_SCHEDULER, type QwenSchedulerConfig } from './scheduler-config.js';

const f32 = Math.fround;

/**
 * The teacher's σ table (diffusers `FlowMatchEulerDiscreteScheduler.set_timesteps`, Qwen-Image config): `linspace(1, 1/N, N)` as float32, exponential time
 * shift `e^μ / (e^μ + (1/σ − 1))`, terminal stretch so the last σ is `shift_terminal`, then a
 * final 0. Every operation rounds to float32 as diffusers' numpy float32 arrays do.
 */
export function teacherSigmas(steps: number, imageSeqLen: number, config: QwenSchedulerConfig = QWEN_IMAGE_SCHEDULER): Float32Array {
  if (!Number.isInteger(steps) || steps < 1) throw new InvalidInputError(`steps must be a positive integer, got ${steps}`);
  const expMu = f32(Math.exp(calculateShift(imageSeqLen, config)));
  const shifted = new Float32Array(steps);
  for (let i = 0; i < steps; i++) {
    const s = f32(linspace(1, 1 / steps, steps, i));
    shifted[i] = f32(expMu / f32(expMu + f32(f32(1 / s) - 1)));
  }
  const sigmas = new Float32Array(steps + 1);
  if (config.shiftTerminal) {
    // numpy: float32 scalar / Python float is float64; the array division then rounds it to float32.
    const scale = f32(f32(1 - shifted[steps - 1]) / (1 - config.shiftTerminal));
    for (let i = 0; i < steps; i++) sigmas[i] = f32(1 - f32(f32(1 - shifted[i]) / scale));
  } else {
    sigmas.set(shifted);
  }
  return sigmas;
}

/**
 * The timestep the teacher's transformer receives for σ: the bf16 scripts pass
 * `bf16(bf16(σ·1000) / 1000)` (e.g. 0.74318 → 0.7421875). Emulated so the model sees
 * the official timestep; the Euler update itself uses the float32 σ table.
 */
export function teacherModelTimestep(sigma: number): number {
  // Scheduler timesteps are float32 σ·1000; the bf16 division computes in float32, then rounds.
  const timestep = roundToBfloat16(Math.fround(Math.fround(sigma) * 1000));
  return roundToBfloat16(Math.fround(timestep / 1000));
}

/** One Euler step in float32: `x + (σ_{i+1} − σ_i) · v`. */
export function teacherStep(x: Float32Array, v: Float32Array, sigmas: Float32Array, index: number): Float32Array {
  if (index < 0 || index + 1 >= sigmas.length) throw new InvalidInputError(`step ${index} is outside the ${sigmas.length - 1}-step table`);
  const delta = f32(sigmas[index + 1] - sigmas[index]);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + f32(delta * v[i]);
  return out;
}

/** numpy.linspace(start, stop, n)[i] in float64 (step form, last value exact). */
function linspace(start: number, stop: number, n: number, i: number): number {
  if (n === 1) return start;
  if (i === n - 1) return stop;
  return start + i * ((stop - start) / (n - 1));
}
