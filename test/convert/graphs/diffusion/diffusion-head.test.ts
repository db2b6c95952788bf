import type { Dtype } from '../../../../src/spec/manifest.js';
import { describe, expect, it } from 'vitest';
import tinyConfig from '../../../../src/families/unipic1/convert/tiny/tiny-config.json' with { type: 'json' };
import { buildDiffusionHeadGraph } from '../../../../src/families/unipic1/convert/graphs/diffusion/diffusion-head-graph.js';
import { timestepFrequencies } from '../../../../src/convert/graphs/diffusion/timestep-embedding.js';
import { quantizeQ4 } from '../../../../src/convert/quantize/q4-blocks.js';
import { dequantizeQ4 } from '../../quantize/support/q4-reference.js';
import { MemoryWeights } from '../../../../src/convert/graphs/weights.js';
import type { ModelConfig } from '../../../../src/families/unipic1/manifest.js';
import { floatFeed, makeContext, maxNormalizedError, maxRelativeError, randomArray, runGraph, type Runtime } from '../layers/support/graph-runner.js';
import { simpleMlpAdaLnReference } from './support/simple-mlp-adaln-reference.js';

const WIDTH = tinyConfig.diffloss.width;
const DEPTH = tinyConfig.diffloss.depth;
const TOKEN = tinyConfig.mar.token_embed_dim;
const CONDITION = tinyConfig.diffloss.z_channels;
const OUT = 2 * TOKEN;

const config: Pick<ModelConfig, 'diffusion' | 'mar'> = {
  diffusion: { width: WIDTH, depth: DEPTH, numTimesteps: 1000, samplingSteps: 100, maxBeta: 0.2, schedule: 'cosine' },
  mar: {
    encoderWidth: tinyConfig.mar.encoder_embed_dim,
    decoderWidth: tinyConfig.mar.decoder_embed_dim,
    encoderDepth: 2,
    decoderDepth: 2,
    encoderHeads: 4,
    decoderHeads: 4,
    bufferSize: 64,
    tokenDim: TOKEN,
    nativeGrid: 4,
    vaeStride: 16,
  },
};

function randomHeadWeights(seed: number): MemoryWeights {
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
  const dense = (name: string, out: number, inFeatures: number) => {
    add(`${name}.weight`, [out, inFeatures], 1 / Math.sqrt(inFeatures));
    add(`${name}.bias`, [out], 0.2);
  };
  const net = 'mar.diffloss.net';
  dense(`${net}.time_embed.mlp.0`, WIDTH, 256);
  dense(`${net}.time_embed.mlp.2`, WIDTH, WIDTH);
  dense(`${net}.cond_embed`, WIDTH, CONDITION);
  dense(`${net}.input_proj`, WIDTH, TOKEN);
  for (let i = 0; i < DEPTH; i++) {
    const block = `${net}.res_blocks.${i}`;
    add(`${block}.in_ln.weight`, [WIDTH], 0.2, 1);
    add(`${block}.in_ln.bias`, [WIDTH], 0.2);
    dense(`${block}.mlp.0`, WIDTH, WIDTH);
    dense(`${block}.mlp.2`, WIDTH, WIDTH);
    dense(`${block}.adaLN_modulation.1`, 3 * WIDTH, WIDTH);
  }
  dense(`${net}.final_layer.adaLN_modulation.1`, 2 * WIDTH, WIDTH);
  dense(`${net}.final_layer.linear`, OUT, WIDTH);
  return new MemoryWeights(tensors);
}

const weights = randomHeadWeights(400);
const M = 7;
const x = randomArray(M * TOKEN, 401);
const c = randomArray(M * CONDITION, 402);
// The schedule's end points and a spread between: 999 stresses float32 angles.
const t = [0, 1, 5, 250, 500, 998, 999];

async function head(dtype: Dtype, runtime: Runtime = 'node') {
  const { ctx, finish } = makeContext(weights, dtype);
  buildDiffusionHeadGraph(ctx, config);
  const out = await runGraph(finish(), { x: floatFeed(x, [M, TOKEN]), t: floatFeed(t, [M]), c: floatFeed(c, [M, CONDITION]) }, runtime);
  expect(out.out.dims).toEqual([M, OUT]);
  return out.out.data;
}

describe('diffusion_head graph (SimpleMLPAdaLN)', () => {
  it('fp32 matches the float64 oracle (with torch-like float32 angles) within 1e-4, node and web', async () => {
    const expected = simpleMlpAdaLnReference(weights, DEPTH, x, t, c, { argumentRounding: true });
    for (const runtime of ['node', 'web'] as const) {
      expect(maxRelativeError(await head('fp32', runtime), expected)).toBeLessThan(1e-4);
    }
  });

  it('the time embedding is cosine first (a sine-first oracle disagrees)', async () => {
    const y = await head('fp32');
    const expected = simpleMlpAdaLnReference(weights, DEPTH, x, t, c, { argumentRounding: true });
    expect(maxRelativeError(y, expected)).toBeLessThan(1e-4);
    // Swap the halves of the time_embed input weight: equivalent to a sine-first embedding.
    const swapped = swapTimeHalves(weights);
    expect(maxRelativeError(y, simpleMlpAdaLnReference(swapped, DEPTH, x, t, c, { argumentRounding: true }))).toBeGreaterThan(1e-2);
  });

  it('frequencies equal exp(−ln(10000)·i/128) to float32 rounding', () => {
    const f = timestepFrequencies();
    for (let i = 0; i < 128; i++) expect(Math.abs(f[i] - Math.exp((-Math.log(10000) * i) / 128)) / f[i]).toBeLessThan(2 ** -20); // a few ulps: each float32 step rounds
  });

  it('fp16, q4 and q8 stay within their measured bounds', async () => {
    const expected = simpleMlpAdaLnReference(weights, DEPTH, x, t, c, { argumentRounding: true });
    // Measured normalized error on these width-32 random weights: fp16 2.9e-4, q4 8.8e-2,
    // q4f16 8.9e-2 (4-bit weights dominate; the q4 graph itself is checked exactly below), q8
    // 9.7e-3 (int8 weights per channel, activations quantized per tensor at run time).
    const bounds = { fp16: 1.5e-3, q4: 0.25, q4f16: 0.25, q8: 0.03 } as const;
    for (const dtype of ['fp16', 'q4', 'q4f16', 'q8'] as const) {
      const error = maxNormalizedError(await head(dtype), expected);
      console.info(`diffusion_head ${dtype}: normalized error ${error.toExponential(2)}`);
      expect(error).toBeLessThan(bounds[dtype]);
    }
  });
});

describe('diffusion_head q4 arithmetic', () => {
  it('q4 equals the float64 oracle run on the dequantised weights (1e-4)', async () => {
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const key of allKeys()) {
      const shape = [...weights.shape(key)];
      const data = weights.float32(key);
      tensors[key] = { shape, data: shape.length === 2 ? Float32Array.from(dequantizeQ4(quantizeQ4(data, shape[0], shape[1]))) : data };
    }
    const expected = simpleMlpAdaLnReference(new MemoryWeights(tensors), DEPTH, x, t, c, { argumentRounding: true });
    expect(maxRelativeError(await head('q4'), expected)).toBeLessThan(1e-4);
  });
});

function swapTimeHalves(source: MemoryWeights): MemoryWeights {
  const name = 'mar.diffloss.net.time_embed.mlp.0.weight';
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const key of allKeys()) tensors[key] = { shape: [...source.shape(key)], data: source.float32(key) };
  const data = tensors[name].data;
  for (let o = 0; o < WIDTH; o++) {
    const row = data.subarray(o * 256, (o + 1) * 256);
    const first = row.slice(0, 128);
    row.copyWithin(0, 128, 256);
    row.set(first, 128);
  }
  return new MemoryWeights(tensors);
}

function allKeys(): string[] {
  const net = 'mar.diffloss.net';
  const dense = (n: string) => [`${n}.weight`, `${n}.bias`];
  const keys = [...dense(`${net}.time_embed.mlp.0`), ...dense(`${net}.time_embed.mlp.2`), ...dense(`${net}.cond_embed`), ...dense(`${net}.input_proj`)];
  for (let i = 0; i < DEPTH; i++) {
    const b = `${net}.res_blocks.${i}`;
    keys.push(`${b}.in_ln.weight`, `${b}.in_ln.bias`, ...dense(`${b}.mlp.0`), ...dense(`${b}.mlp.2`), ...dense(`${b}.adaLN_modulation.1`));
  }
  keys.push(...dense(`${net}.final_layer.adaLN_modulation.1`), ...dense(`${net}.final_layer.linear`));
  return keys;
}
