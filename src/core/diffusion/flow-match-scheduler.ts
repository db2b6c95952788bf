/**
 * diffusers' `FlowMatchEulerDiscreteScheduler` with a static shift, as SD3.5 configures
 * it (`shift` 3.0, no dynamic shifting, no terminal shift). Every float32 rounding the scheduler
 * does is repeated with `Math.fround`, so the sigma list is the one torch holds, bit for bit.
 */
export interface FlowMatchSchedule {
  /** `N + 1` float32 sigmas, descending, the last one 0. */
  readonly sigmas: Float32Array;
  /** `N` float32 timesteps fed to the transformer (σ·1000 in float32). */
  readonly timesteps: Float32Array;
}

export interface FlowMatchConfig {
  readonly numTrainTimesteps: number;
  readonly shift: number;
}

export const SD3_SCHEDULER: FlowMatchConfig = { numTrainTimesteps: 1000, shift: 3 };

const f = Math.fround;

/** The construction-time sigma range: `linspace(1, T, T)` reversed, ÷T, shifted — all in float32. */
function trainSigmaRange(config: FlowMatchConfig): { max: number; min: number } {
  const shifted = (t: number): number => {
    const s = f(f(t) / config.numTrainTimesteps);
    return f(f(config.shift * s) / f(1 + f((config.shift - 1) * s)));
  };
  return { max: shifted(config.numTrainTimesteps), min: shifted(1) };
}

/**
 * `set_timesteps(steps)`: numpy `linspace(σmax·T, σmin·T, steps)` in float64, ÷T, shifted a
 * second time (the already-shifted σmin is shifted again: the "double shift" that makes the last
 * sigma 0.008929 for shift 3), then float32; timesteps are σ·T in float32; a final σ = 0 appended.
 */
export function flowMatchSchedule(steps: number, config: FlowMatchConfig = SD3_SCHEDULER): FlowMatchSchedule {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, got ${steps}`);
  const { max, min } = trainSigmaRange(config);
  const T = config.numTrainTimesteps;
  const start = max * T;
  const stop = min * T;
  const sigmas = new Float32Array(steps + 1);
  const timesteps = new Float32Array(steps);
  const step = steps > 1 ? (stop - start) / (steps - 1) : 0;
  for (let i = 0; i < steps; i++) {
    // numpy: arange(num) * step + start, with the endpoint written exactly.
    const t = steps > 1 && i === steps - 1 ? stop : i * step + start;
    const s = t / T;
    const shifted = (config.shift * s) / (1 + (config.shift - 1) * s);
    sigmas[i] = shifted;
    timesteps[i] = f(sigmas[i] * T);
  }
  sigmas[steps] = 0;
  return { sigmas, timesteps };
}

/** One Euler step in place: `x += (σ_{i+1} − σ_i)·v`, float32 as the scheduler computes it. */
export function eulerStep(x: Float32Array, velocity: Float32Array, schedule: FlowMatchSchedule, index: number): void {
  if (x.length !== velocity.length) throw new RangeError(`latent has ${x.length} values, velocity ${velocity.length}`);
  const dt = f(schedule.sigmas[index + 1] - schedule.sigmas[index]);
  for (let i = 0; i < x.length; i++) x[i] = f(x[i] + f(dt * velocity[i]));
}

/** Classifier-free guidance `u + g·(c − u)` in float32, for `[negative rows…, positive rows…]` halves. */
export function applyGuidance(unconditional: Float32Array, conditional: Float32Array, guidance: number): Float32Array {
  const out = new Float32Array(unconditional.length);
  const g = f(guidance);
  for (let i = 0; i < out.length; i++) out[i] = f(unconditional[i] + f(g * f(conditional[i] - unconditional[i])));
  return out;
}
