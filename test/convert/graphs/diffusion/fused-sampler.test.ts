import type { Dtype } from '../../../../src/spec/manifest.js';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import tinyConfig from '../../../../src/families/unipic1/convert/tiny/tiny-config.json' with { type: 'json' };
import { buildDiffusionHeadGraph } from '../../../../src/families/unipic1/convert/graphs/diffusion/diffusion-head-graph.js';
import { buildFusedSamplerGraph } from '../../../../src/families/unipic1/convert/graphs/diffusion/fused-sampler-graph.js';
import { MemoryWeights } from '../../../../src/convert/graphs/weights.js';
import { GraphBuilder } from '../../../../src/convert/onnx/graph-builder.js';
import { MemoryWeightSink } from '../../../../src/convert/onnx/weight-sink.js';
import { sampleTokens } from '../../../../src/families/unipic1/diffusion/sampler.js';
import { respacedCosineTables } from '../../../../src/families/unipic1/diffusion/schedule.js';
import type { NoisePurpose } from '../../../../src/core/random/random-source.js';
import type { ModelConfig } from '../../../../src/families/unipic1/manifest.js';
import { floatFeed, makeContext, maxNormalizedError, randomArray, runGraph } from '../layers/support/graph-runner.js';
import { simpleMlpAdaLnReference } from './support/simple-mlp-adaln-reference.js';

const WIDTH = tinyConfig.diffloss.width;
const DEPTH = tinyConfig.diffloss.depth;
const C = tinyConfig.mar.token_embed_dim;
const W = tinyConfig.diffloss.z_channels;
const STEPS = 100;

const config: Pick<ModelConfig, 'diffusion' | 'mar'> = {
  diffusion: { width: WIDTH, depth: DEPTH, numTimesteps: 1000, samplingSteps: STEPS, maxBeta: 0.2, schedule: 'cosine' },
  mar: {
    encoderWidth: W,
    decoderWidth: W,
    encoderDepth: 2,
    decoderDepth: 2,
    encoderHeads: 4,
    decoderHeads: 4,
    bufferSize: 64,
    tokenDim: C,
    nativeGrid: 4,
    vaeStride: 16,
  },
};
const tables = respacedCosineTables({ numTimesteps: 1000, steps: STEPS, maxBeta: 0.2 });

/**
 * Random head weights scaled like a trained head at high noise (ε ≈ x_t): the output layer reads the
 * input back, so the sampler's 1/√ᾱ factors (up to ~195) do not blow a random state up to
 * magnitudes where every comparison is dominated by cancellation.
 */
function headWeights(seed: number): MemoryWeights {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  let next = seed;
  const add = (name: string, shape: number[], scale: number, offset = 0) => {
    tensors[name] = {
      shape,
      data: randomArray(
        shape.reduce((a, b) => a * b, 1),
        next++,
        scale,
      ).map((v) => v + offset),
    };
  };
  const dense = (name: string, out: number, inFeatures: number, scale = 1) => {
    add(`${name}.weight`, [out, inFeatures], scale / Math.sqrt(inFeatures));
    add(`${name}.bias`, [out], 0.05);
  };
  const net = 'mar.diffloss.net';
  dense(`${net}.time_embed.mlp.0`, WIDTH, 256);
  dense(`${net}.time_embed.mlp.2`, WIDTH, WIDTH);
  dense(`${net}.cond_embed`, WIDTH, W);
  dense(`${net}.input_proj`, WIDTH, C);
  for (let i = 0; i < DEPTH; i++) {
    const block = `${net}.res_blocks.${i}`;
    add(`${block}.in_ln.weight`, [WIDTH], 0.1, 1);
    add(`${block}.in_ln.bias`, [WIDTH], 0.05);
    dense(`${block}.mlp.0`, WIDTH, WIDTH);
    dense(`${block}.mlp.2`, WIDTH, WIDTH);
    dense(`${block}.adaLN_modulation.1`, 3 * WIDTH, WIDTH, 0.3);
  }
  dense(`${net}.final_layer.adaLN_modulation.1`, 2 * WIDTH, WIDTH, 0.1);
  dense(`${net}.final_layer.linear`, 2 * C, WIDTH, 0.5);
  return new MemoryWeights(tensors);
}

const weights = headWeights(500);
const M = 5;

/** Seeded noise per purpose, so the fused and per-step samplers draw the same values. */
function noiseFor(count: number, purpose: NoisePurpose): Float32Array {
  const seed = purpose.kind === 'diffusion-start' ? 900 : 1000 + (purpose.kind === 'diffusion-step' ? purpose.step : 0);
  return randomArray(count, seed, 1.7);
}

/** The per-step noise table the fused graph takes: row s is step k = first − s, k = 0 all zeros. */
function noiseTable(first: number, count: number): Float32Array {
  const out = new Float32Array(count * M * C);
  for (let s = 0; s < count; s++) {
    const k = first - s;
    if (k > 0) out.set(noiseFor(M * C, { kind: 'diffusion-step', iteration: 0, step: k }), s * M * C);
  }
  return out;
}

function buildFused(guided: boolean, dtype: Dtype = 'fp32', hoist = true) {
  const sink = new MemoryWeightSink('graph.data');
  const builder = new GraphBuilder('fused', sink);
  const graph = buildFusedSamplerGraph({ builder, weights, dtype }, config, { guided, hoist });
  return { bytes: graph.toBytes(), data: sink.bytes() };
}

interface SamplerCase {
  readonly guided: boolean;
  readonly guidance: number;
  readonly temperature: number;
  readonly conditions: Float32Array;
}

async function runFused(
  graph: { bytes: Uint8Array; data: Uint8Array },
  sample: SamplerCase,
  start: Float32Array,
  first = STEPS - 1,
  count = STEPS,
  runtime: 'node' | 'web' = 'node',
): Promise<Float32Array> {
  const rows = sample.guided ? 2 * M : M;
  const feeds = {
    x: { type: 'float32', data: start, dims: [M, C] },
    c: { type: 'float32', data: sample.conditions, dims: [rows, W] },
    noise: { type: 'float32', data: noiseTable(first, count), dims: [count, M, C] },
    first_step: { type: 'int64', data: BigInt64Array.from([BigInt(first)]), dims: [] },
    guidance: { type: 'float32', data: Float32Array.from([sample.guidance]), dims: [] },
    temperature: { type: 'float32', data: Float32Array.from([sample.temperature]), dims: [] },
  } as const;
  const ort = runtime === 'node' ? ortNode : ortWeb;
  if (runtime === 'web') ortWeb.env.wasm.numThreads = 1;
  const session = await (ort.InferenceSession as typeof ortNode.InferenceSession).create(graph.bytes, { externalData: [{ path: 'graph.data', data: graph.data }] });
  try {
    const inputs: Record<string, ortNode.Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) inputs[name] = new (ort.Tensor as typeof ortNode.Tensor)(feed.type, feed.data as never, [...feed.dims]);
    const out = await session.run(inputs);
    return out.x_out.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** The SDK's per-step sampler (one diffusion_head run per step), the fused graph's direct peer. */
async function runPerStep(sample: SamplerCase): Promise<Float32Array> {
  const { ctx, finish } = makeContext(weights, 'fp32');
  buildDiffusionHeadGraph(ctx, config);
  const head = finish();
  return sampleTokens({
    tables,
    tokens: M,
    channels: C,
    unconditional: sample.guided,
    guidance: sample.guidance,
    temperature: sample.temperature,
    iteration: 0,
    noise: noiseFor,
    net: async (x, rows, timestep) => {
      const out = await runGraph(head, {
        x: floatFeed(x, [rows, C]),
        t: floatFeed(new Float32Array(rows).fill(timestep), [rows]),
        c: floatFeed(sample.conditions, [rows, W]),
      });
      return out.out.data;
    },
  });
}

/** Float64 oracle: the UniPic-1 per-token DDPM sampler (`p_sample_loop` of the official `gaussian_diffusion.py`) written out with the float64 head reference. */
function float64Sampler(sample: SamplerCase): Float64Array {
  let x = Float64Array.from(noiseFor(M * C, { kind: 'diffusion-start', iteration: 0 }));
  for (let k = STEPS - 1; k >= 0; k--) {
    const rows = sample.guided ? 2 * M : M;
    const input = new Float64Array(rows * C);
    input.set(x);
    if (sample.guided) input.set(x, M * C);
    const out = simpleMlpAdaLnReference(weights, DEPTH, input, new Float64Array(rows).fill(tables.timesteps[k]), sample.conditions, { argumentRounding: true });
    const noise = k > 0 ? noiseFor(M * C, { kind: 'diffusion-step', iteration: 0, step: k }) : undefined;
    const next = new Float64Array(M * C);
    for (let r = 0; r < M; r++) {
      for (let j = 0; j < C; j++) {
        const cond = out[r * 2 * C + j];
        const eps = sample.guided ? out[(M + r) * 2 * C + j] + sample.guidance * (cond - out[(M + r) * 2 * C + j]) : cond;
        const fraction = (out[r * 2 * C + C + j] + 1) / 2;
        const logVariance = fraction * tables.logBetas[k] + (1 - fraction) * tables.posteriorLogVarianceClipped[k];
        const i = r * C + j;
        const start = tables.sqrtRecipAlphasCumprod[k] * x[i] - tables.sqrtRecipm1AlphasCumprod[k] * eps;
        const mean = tables.posteriorMeanCoef1[k] * start + tables.posteriorMeanCoef2[k] * x[i];
        next[i] = noise ? mean + Math.exp(0.5 * logVariance) * noise[i] * sample.temperature : mean;
      }
    }
    x = next;
  }
  return x;
}

const startNoise = noiseFor(M * C, { kind: 'diffusion-start', iteration: 0 });
const cases: Record<string, SamplerCase> = {
  unguided: { guided: false, guidance: 1, temperature: 1, conditions: randomArray(M * W, 601) },
  guided: { guided: true, guidance: 3, temperature: 0.9, conditions: randomArray(2 * M * W, 602) },
};

describe('diffusion_sampler graph (fused 100-step loop)', () => {
  for (const [name, sample] of Object.entries(cases)) {
    it(`${name}: equals the per-step sampler over the diffusion_head graph (float32, same noise)`, async () => {
      const fused = await runFused(buildFused(sample.guided), sample, startNoise);
      const perStep = await runPerStep(sample);
      const error = maxNormalizedError(fused, perStep);
      console.info(`fused vs per-step (${name}): normalized error ${error.toExponential(2)}, max |x| ${Math.max(...Array.from(perStep, Math.abs)).toFixed(2)}`);
      // Same kernels on the same inputs; only Exp (MLAS vs Math.exp) may differ by an ulp per step.
      // Measured 1.1e-7 (unguided) and 1.3e-8 (guided) on ort-node CPU; bound ~10×.
      expect(error).toBeLessThan(1e-6);
    });

    it(`${name}: matches the float64 sampler oracle`, async () => {
      const fused = await runFused(buildFused(sample.guided), sample, startNoise);
      const error = maxNormalizedError(fused, float64Sampler(sample));
      console.info(`fused vs float64 (${name}): normalized error ${error.toExponential(2)}`);
      // float32 through 100 steps of x0 = x/√ᾱ − ε·√(1/ᾱ − 1) (factors up to ~195) against float64.
      // Measured 6.0e-7 (unguided) and 8.2e-7 (guided); bound ~10×.
      expect(error).toBeLessThan(1e-5);
    });
  }

  it('blocks of steps (4 runs of 25) give the one-run result', async () => {
    const sample = cases.guided;
    const graph = buildFused(true);
    let x = startNoise;
    for (let block = 0; block < 4; block++) x = await runFused(graph, sample, x, STEPS - 1 - 25 * block, 25);
    const whole = await runFused(graph, sample, startNoise);
    expect(maxNormalizedError(x, whole)).toBe(0);
  });

  it('a wrong guidance scale or temperature changes the result (the test can fail)', async () => {
    const sample = cases.guided;
    const graph = buildFused(true);
    const reference = await runFused(graph, sample, startNoise);
    expect(maxNormalizedError(await runFused(graph, { ...sample, guidance: 2.5 }, startNoise), reference)).toBeGreaterThan(1e-3);
    expect(maxNormalizedError(await runFused(graph, { ...sample, temperature: 1 }, startNoise), reference)).toBeGreaterThan(1e-3);
  });

  it('runs in ort-web wasm with the node result', async () => {
    const sample = cases.guided;
    const graph = buildFused(true);
    const node = await runFused(graph, sample, startNoise);
    const web = await runFused(graph, sample, startNoise, STEPS - 1, STEPS, 'web');
    // Different Exp/GEMM kernels (MLAS vs wasm), same float32 arithmetic otherwise.
    const error = maxNormalizedError(web, node);
    console.info(`fused web vs node: normalized error ${error.toExponential(2)}`);
    expect(error).toBeLessThan(1e-5);
  });

  it('q4 weights stay close to the fp32 sampler', async () => {
    const sample = cases.guided;
    const fp32 = await runFused(buildFused(true), sample, startNoise);
    const q4 = await runFused(buildFused(true, 'q4'), sample, startNoise);
    const error = maxNormalizedError(q4, fp32);
    console.info(`fused q4 vs fp32: normalized error ${error.toExponential(2)}`);
    // 4-bit projections: measured 2.7e-2 on these width-32 weights (the head alone measures 8.8e-2
    // in diffusion-head.test.ts); bound ~4×.
    expect(error).toBeLessThan(0.1);
  });

  it('hoisting cond_embed out of the loop and the time embedding to one row changes nothing (fp32, q8)', async () => {
    const sample = cases.guided;
    for (const dtype of ['fp32', 'q8'] as const) {
      const hoisted = await runFused(buildFused(true, dtype), sample, startNoise);
      const inLoop = await runFused(buildFused(true, dtype, false), sample, startNoise);
      const error = maxNormalizedError(hoisted, inLoop);
      console.info(`fused ${dtype} hoisted vs in-loop: normalized error ${error.toExponential(2)}`);
      // The same products on the same rows (the time embedding's rows are all equal, so its int8
      // scale is too); only GEMM blocking over fewer rows may reorder a sum.
      expect(error).toBeLessThan(1e-6);
    }
  });

  it('q8 (int8 products) stays close to the fp32 sampler, on ort-node and ort-web wasm', async () => {
    const sample = cases.guided;
    const fp32 = await runFused(buildFused(true), sample, startNoise);
    const q8Graph = buildFused(true, 'q8');
    const q8 = await runFused(q8Graph, sample, startNoise);
    const error = maxNormalizedError(q8, fp32);
    console.info(`fused q8 vs fp32: normalized error ${error.toExponential(2)}`);
    expect(error).toBeLessThan(Q8_SAMPLER_BOUND);
    const web = await runFused(q8Graph, sample, startNoise, STEPS - 1, STEPS, 'web');
    const webError = maxNormalizedError(web, fp32);
    console.info(`fused q8 (wasm) vs fp32: normalized error ${webError.toExponential(2)}`);
    expect(webError).toBeLessThan(Q8_SAMPLER_BOUND);
  });
});

// int8 weights per channel, uint8 activations per tensor: measured 6.1e-3 on these width-32
// weights, the same on ort-node and wasm; bound ~4×.
const Q8_SAMPLER_BOUND = 0.025;
