import { expect } from 'vitest';
import { pixelDifference, type CallOutcomes } from './reference-calls.js';

/**
 * Browser outcomes against the onnxruntime-node CPU reference (same seeds, same fp32 graphs).
 *
 * Tolerances, measured on this tiny model and stated here:
 * - understand: greedy decoding, so identical token ids and text are required; the streamed
 *   deltas must concatenate to the final text.
 * - generate / edit: the kernels differ (MLAS on CPU, wasm SIMD or WebGPU shaders in the page),
 *   float32 rounding differs by ~1e-6 relative per op and travels through the MAR iterations and
 *   the diffusion sampler; after the VAE and the 8-bit rounding this shows up as at most
 *   PIXEL_MAX_DIFFERENCE levels on a few pixels, with a mean below PIXEL_MEAN_DIFFERENCE.
 *   Measured (64², 2 iterations, 4 diffusion steps): wasm max 1 / mean 0.0001, WebGPU on
 *   SwiftShader max 1 / mean 0.001; the bounds leave room for other CPUs' rounding.
 */
export const PIXEL_MAX_DIFFERENCE = 2;
export const PIXEL_MEAN_DIFFERENCE = 0.05;

export function expectSameOutcomes(actual: CallOutcomes, reference: CallOutcomes, label: string): void {
  expect(actual.understand.tokens, `${label}: understand tokens`).toEqual(reference.understand.tokens);
  expect(actual.understand.text, `${label}: understand text`).toBe(reference.understand.text);
  expect(actual.understand.deltas, `${label}: streamed deltas`).toBe(actual.understand.text);
  for (const call of ['generate', 'edit'] as const) {
    const got = actual[call];
    const want = reference[call];
    expect([got.width, got.height, got.steps], `${label}: ${call} size and steps`).toEqual([want.width, want.height, want.steps]);
    const difference = pixelDifference(got.pixels, want.pixels);
    console.info(`[${label}] ${call}: max pixel difference ${difference.max}, mean ${difference.mean.toFixed(4)}`);
    expect(difference.max, `${label}: ${call} max pixel difference`).toBeLessThanOrEqual(PIXEL_MAX_DIFFERENCE);
    expect(difference.mean, `${label}: ${call} mean pixel difference`).toBeLessThanOrEqual(PIXEL_MEAN_DIFFERENCE);
  }
}
