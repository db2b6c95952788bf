import type { Dtype } from '../../../../src/spec/manifest.js';
import { describe, expect, it } from 'vitest';
import { buildVaeEncoderGraph } from '../../../../src/families/unipic1/convert/graphs/vae/vae-encoder-graph.js';
import { buildVaeDecoderGraph } from '../../../../src/families/unipic1/convert/graphs/vae/vae-decoder-graph.js';
import type { AttentionImplementation } from '../../../../src/families/unipic1/convert/graphs/mar/mar-config.js';
import { floatFeed, makeContext, randomArray, runGraph, type Runtime } from '../layers/support/graph-runner.js';
import { relativeRmsError, scaledMaxError } from '../mar/support/error-metrics.js';
import { TINY_VAE_CONFIG, tinyVaeWeights } from './support/tiny-vae-weights.js';
import { vaeDecoderReference, vaeEncoderReference } from './support/vae-reference.js';

const config = TINY_VAE_CONFIG;
const weights = tinyVaeWeights();
const STRIDE = 2 ** (config.chMult.length - 1);
const E = config.embedDim;

interface Case {
  batch: number;
  height: number;
  width: number;
  dtype?: Dtype;
  attention?: AttentionImplementation;
  runtime?: Runtime;
}

async function checkEncoder({ batch, height, width, dtype = 'fp32', attention, runtime }: Case) {
  const { ctx, finish } = makeContext(weights, dtype);
  buildVaeEncoderGraph(ctx, config, { attention });
  const pixels = randomArray(batch * 3 * height * width, 61 + height, 1);
  const out = await runGraph(finish(), { pixels: floatFeed(pixels, [batch, 3, height, width]) }, runtime);
  const m = height / STRIDE;
  const n = width / STRIDE;
  expect(out.latents.dims).toEqual([batch, m, n, E]);
  const expected: number[] = [];
  const plane = 3 * height * width;
  for (let b = 0; b < batch; b++) {
    const image = { channels: 3, height, width, data: Float64Array.from(pixels.subarray(b * plane, (b + 1) * plane)) };
    expected.push(...vaeEncoderReference(weights, config, image));
  }
  return { error: scaledMaxError(out.latents.data, expected), rms: relativeRmsError(out.latents.data, expected) };
}

async function checkDecoder({ batch, height: m, width: n, dtype = 'fp32', attention, runtime }: Case) {
  const { ctx, finish } = makeContext(weights, dtype);
  buildVaeDecoderGraph(ctx, config, { attention });
  // Real scaled latents are O(1); random ones of that size exercise the ÷scale path.
  const latents = randomArray(batch * m * n * E, 71 + m * n, 1);
  const out = await runGraph(finish(), { latents: floatFeed(latents, [batch, m, n, E]) }, runtime);
  expect(out.pixels.dims).toEqual([batch, 3, m * STRIDE, n * STRIDE]);
  const expected: number[] = [];
  for (let b = 0; b < batch; b++) {
    expected.push(...vaeDecoderReference(weights, config, latents.subarray(b * m * n * E, (b + 1) * m * n * E), m, n).data);
  }
  return { error: scaledMaxError(out.pixels.data, expected), rms: relativeRmsError(out.pixels.data, expected) };
}

describe('vae_encoder graph', () => {
  // fp32 vs the float64 oracle: 1e-4 relative to the output's largest magnitude (measured ~1e-6;
  // per-element relative error is not used because ~30 float32 convolutions leave ~3e-6 absolute
  // rounding on outputs near zero).
  it('matches the float64 reference at 64 px (B=2)', async () => {
    expect((await checkEncoder({ batch: 2, height: 64, width: 64 })).error).toBeLessThan(1e-4);
  });

  it('keeps height and width apart on a 64×128 input', async () => {
    expect((await checkEncoder({ batch: 1, height: 64, width: 128 })).error).toBeLessThan(1e-4);
  });

  it('gives the same result with fused single-head attention', async () => {
    expect((await checkEncoder({ batch: 1, height: 64, width: 64, attention: 'fused' })).error).toBeLessThan(1e-4);
  });

  it('runs in ort-web wasm', async () => {
    expect((await checkEncoder({ batch: 1, height: 64, width: 64, runtime: 'web' })).error).toBeLessThan(1e-4);
  });

  // Half-precision convolutions (GroupNorm, softmax and residuals stay float32). Measured relative
  // RMS on these random weights: encoder 7.6e-4, decoder 8.6e-4; bound a few times that.
  it('fp16 stays within relative RMS 5e-3 of the reference', async () => {
    const { rms } = await checkEncoder({ batch: 1, height: 64, width: 64, dtype: 'fp16' });
    console.log(`vae_encoder fp16: ${rms.toExponential(2)}`);
    expect(rms).toBeLessThan(5e-3);
  });
});

describe('vae_decoder graph', () => {
  it('matches the float64 reference on a 4×4 grid (B=2)', async () => {
    expect((await checkDecoder({ batch: 2, height: 4, width: 4 })).error).toBeLessThan(1e-4);
  });

  it('keeps height and width apart on a 2×3 grid', async () => {
    expect((await checkDecoder({ batch: 1, height: 2, width: 3 })).error).toBeLessThan(1e-4);
  });

  it('gives the same result with fused single-head attention', async () => {
    expect((await checkDecoder({ batch: 1, height: 4, width: 4, attention: 'fused' })).error).toBeLessThan(1e-4);
  });

  it('runs in ort-web wasm', async () => {
    expect((await checkDecoder({ batch: 1, height: 4, width: 4, runtime: 'web' })).error).toBeLessThan(1e-4);
  });

  it('fp16 stays within relative RMS 5e-3 of the reference', async () => {
    const { rms } = await checkDecoder({ batch: 1, height: 4, width: 4, dtype: 'fp16' });
    console.log(`vae_decoder fp16: ${rms.toExponential(2)}`);
    expect(rms).toBeLessThan(5e-3);
  });
});
