import { describe, expect, it } from 'vitest';
import { geluErf, silu } from '../../../../src/convert/graphs/layers/activations.js';
import { layerNorm } from '../../../../src/convert/graphs/layers/layer-norm.js';
import { rmsNorm } from '../../../../src/convert/graphs/layers/rms-norm.js';
import { MemoryWeights } from '../../../../src/convert/graphs/weights.js';
import { floatFeed, makeContext, maxRelativeError, randomArray, runGraph, type Runtime } from './support/graph-runner.js';

const ROWS = 5;
const WIDTH = 48;
const gamma = randomArray(WIDTH, 21, 0.3).map((v) => v + 1);
const beta = randomArray(WIDTH, 22, 0.3);
// Rows with a large common offset: a one-pass E[x²]−E[x]² variance would lose digits here.
const x = randomArray(ROWS * WIDTH, 23, 2).map((v, i) => v + (i < WIDTH ? 30 : 0));
const weights = new MemoryWeights({ 'n.weight': { shape: [WIDTH], data: gamma }, 'n.bias': { shape: [WIDTH], data: beta } });

/** Plain float64 LayerNorm / RMSNorm per row. */
function normReference(kind: 'layer' | 'rms', scale?: ArrayLike<number>, shift?: ArrayLike<number>, eps = 1e-6): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < ROWS; r++) {
    const row = Array.from(x.subarray(r * WIDTH, (r + 1) * WIDTH));
    const mean = kind === 'layer' ? row.reduce((a, b) => a + b, 0) / WIDTH : 0;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / WIDTH;
    for (let i = 0; i < WIDTH; i++) {
      out[r * WIDTH + i] = ((row[i] - mean) / Math.sqrt(variance + eps)) * (scale ? scale[i] : 1) + (shift ? shift[i] : 0);
    }
  }
  return out;
}

async function runUnary(build: (ctx: ReturnType<typeof makeContext>['ctx'], input: string) => string, runtime: Runtime = 'node') {
  const { ctx, finish } = makeContext(weights);
  const input = ctx.builder.input('x', 'float32', ['R', WIDTH]);
  ctx.builder.output(build(ctx, input), 'y', 'float32', ['R', WIDTH]);
  return (await runGraph(finish(), { x: floatFeed(x, [ROWS, WIDTH]) }, runtime)).y.data;
}

// 1e-4 relative (floor 1e-2) against float64, for every float32 graph below.
const TOLERANCE = 1e-4;

describe('layer norm', () => {
  it('affine with bias', async () => {
    const y = await runUnary((ctx, input) => layerNorm(ctx, input, WIDTH, 1e-6, 'n.weight', 'n.bias'));
    expect(maxRelativeError(y, normReference('layer', gamma, beta))).toBeLessThan(TOLERANCE);
  });
  it('affine without bias', async () => {
    const y = await runUnary((ctx, input) => layerNorm(ctx, input, WIDTH, 1e-6, 'n.weight'));
    expect(maxRelativeError(y, normReference('layer', gamma))).toBeLessThan(TOLERANCE);
  });
  it('no affine (eps 1e-6) in ort-web wasm', async () => {
    const y = await runUnary((ctx, input) => layerNorm(ctx, input, WIDTH, 1e-6), 'web');
    expect(maxRelativeError(y, normReference('layer'))).toBeLessThan(TOLERANCE);
  });
  it('epsilon is honoured (large eps changes the result)', async () => {
    const y = await runUnary((ctx, input) => layerNorm(ctx, input, WIDTH, 0.5));
    expect(maxRelativeError(y, normReference('layer', undefined, undefined, 0.5))).toBeLessThan(TOLERANCE);
  });
});

describe('rms norm', () => {
  for (const decomposed of [false, true]) {
    for (const runtime of ['node', 'web'] as const) {
      it(`${decomposed ? 'decomposed' : 'SimplifiedLayerNormalization'} on ${runtime}`, async () => {
        const y = await runUnary((ctx, input) => rmsNorm(ctx, input, 'n.weight', 1e-6, { decomposed }), runtime);
        expect(maxRelativeError(y, normReference('rms', gamma))).toBeLessThan(TOLERANCE);
      });
    }
  }
});

describe('activations', () => {
  it('GELU is the exact erf form, not the tanh approximation', async () => {
    const y = await runUnary((ctx, input) => geluErf(ctx.builder, input));
    const expected = Array.from(x, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
    expect(maxRelativeError(y, expected)).toBeLessThan(TOLERANCE);
    // The tanh approximation is farther from the graph than the tolerance: the test tells them apart.
    const tanhForm = Array.from(x, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
    expect(maxRelativeError(y, tanhForm)).toBeGreaterThan(TOLERANCE);
  });
  it('SiLU', async () => {
    const y = await runUnary((ctx, input) => silu(ctx.builder, input), 'web');
    expect(
      maxRelativeError(
        y,
        Array.from(x, (v) => v / (1 + Math.exp(-v))),
      ),
    ).toBeLessThan(TOLERANCE);
  });
});

/** erf by its Maclaurin series (|z| < 3) or continued-fraction complement (beyond), in float64. */
function erf(z: number): number {
  const a = Math.abs(z);
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 200; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    return Math.sign(z) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  let fraction = 0;
  for (let n = 60; n >= 1; n--) fraction = n / 2 / (a + fraction);
  return Math.sign(z) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + fraction));
}
