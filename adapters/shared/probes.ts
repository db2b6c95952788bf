import { addProbeModel, float16ProbeModel } from './probe-models.js';
import type { OrtRuntime, OrtSessionOptions } from './ort-runtime.js';

// Probe failures are expected (that is what `auto` is for); keep ORT from logging them as errors.
const QUIET: OrtSessionOptions = { logSeverityLevel: 4 };

/**
 * Proves an execution provider works end to end: creates a session on it, runs `[1, 2] + [3, 4]`
 * and checks the answer. Throws with ORT's reason when it does not.
 */
export async function probeDevice(runtime: OrtRuntime, executionProviders: unknown[]): Promise<void> {
  const session = await runtime.InferenceSession.create(addProbeModel(), { ...QUIET, executionProviders });
  try {
    const result = await session.run({
      a: new runtime.Tensor('float32', new Float32Array([1, 2]), [2]),
      b: new runtime.Tensor('float32', new Float32Array([3, 4]), [2]),
    });
    const sum = Array.from(result.c.data as Float32Array);
    if (sum[0] !== 4 || sum[1] !== 6) throw new Error(`probe graph computed [${sum.join(', ')}] instead of [4, 6]`);
  } finally {
    await session.release();
  }
}

/**
 * Whether the provider runs float16 kernels itself. WebGPU without `shader-f16` fails this at
 * run time ("requires f16 but the device does not support it"), which is the point.
 */
export async function probeFloat16(runtime: OrtRuntime, executionProviders: unknown[]): Promise<boolean> {
  try {
    const session = await runtime.InferenceSession.create(float16ProbeModel(), { ...QUIET, executionProviders });
    try {
      const result = await session.run({ x: new runtime.Tensor('float32', new Float32Array([1.5, -2]), [2]) });
      const doubled = Array.from(result.y.data as Float32Array);
      // 1.5 and -2 are exact in float16, so the doubled values are exact too.
      return doubled[0] === 3 && doubled[1] === -4;
    } finally {
      await session.release();
    }
  } catch {
    return false;
  }
}
