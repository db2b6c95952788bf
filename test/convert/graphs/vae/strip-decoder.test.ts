import { describe, expect, it } from 'vitest';
import { decodeInStrips } from '../../../../src/core/vae/strip-decode.js';
import { buildVaeDecoderGraph, buildVaeDecoderStripGraph } from '../../../../src/families/unipic1/convert/graphs/vae/vae-decoder-graph.js';
import { stripDecoderSchema } from '../../../../src/spec/strip-decoder.js';
import { float32 } from '../../../../src/core/tensor.js';
import { floatFeed, makeContext, maxNormalizedError, randomArray, runGraph } from '../layers/support/graph-runner.js';
import { sessionGraphs } from './support/strip-session.js';
import { TINY_VAE_CONFIG, tinyVaeWeights } from './support/tiny-vae-weights.js';

const config = TINY_VAE_CONFIG;
const weights = tinyVaeWeights();
const E = config.embedDim;

async function compare(m: number, n: number, stripRows: number | undefined, statistics: 'graph' | 'js' = 'graph') {
  const latents = randomArray(m * n * E, 91 + m * n, 1);
  const oneShot = makeContext(weights);
  buildVaeDecoderGraph(oneShot.ctx, config, { attention: 'fused' });
  const expected = (await runGraph(oneShot.finish(), { latents: floatFeed(latents, [1, m, n, E]) })).pixels;

  const strips = makeContext(weights);
  const built = stripDecoderSchema.parse(buildVaeDecoderStripGraph(strips.ctx, config, { attention: 'fused' }));
  expect(built.statistics).toBe('graph');
  // A folder converted before the graph reduced its strips: its plan has no `statistics`.
  const plan = statistics === 'graph' ? built : { ...built, statistics: undefined };
  const { graphs, runs, release } = await sessionGraphs(strips.finish());
  try {
    const out = await decodeInStrips(graphs, plan, float32([1, m, n, E], latents), { stripRows });
    expect(out.dims).toEqual(expected.dims);
    return { error: maxNormalizedError(out.data, expected.data), runs: runs(), stages: plan.stages.length };
  } finally {
    await release();
  }
}

describe('strip VAE decoder (UniPic-1 KL-16)', () => {
  // Exact up to float32 rounding: the whole image's GroupNorm statistics (float64 here, float32
  // in ORT's GroupNormalization) and the same convolutions over halo rows.
  it('equals the one-shot decode within 1e-5 with 2-row strips (many strips per stage)', async () => {
    const { error, runs, stages } = await compare(4, 3, 2);
    console.log(`strip decoder vs one-shot, 2-row strips: ${error.toExponential(2)} over ${runs} runs`);
    expect(error).toBeLessThan(1e-5);
    expect(runs).toBeGreaterThan(stages * 4);
  });

  it('equals the one-shot decode with the statistics taken in JS (plans without `statistics`)', async () => {
    expect((await compare(4, 3, 3, 'js')).error).toBeLessThan(1e-5);
  });

  it('equals the one-shot decode with odd strip heights and a non-square grid', async () => {
    expect((await compare(3, 5, 6)).error).toBeLessThan(1e-5);
  });

  it('equals the one-shot decode with one strip per stage', async () => {
    const { error, runs, stages } = await compare(2, 2, undefined);
    expect(error).toBeLessThan(1e-5);
    expect(runs).toBe(stages);
  });

  it('reports a NaN as a NumericError, not a black image', async () => {
    const strips = makeContext(weights);
    const plan = stripDecoderSchema.parse(buildVaeDecoderStripGraph(strips.ctx, config, { attention: 'fused' }));
    const { graphs, release } = await sessionGraphs(strips.finish());
    try {
      const latents = randomArray(2 * 2 * E, 5, 1);
      latents[3] = Number.NaN;
      await expect(decodeInStrips(graphs, plan, float32([1, 2, 2, E], latents), { stripRows: 2 })).rejects.toMatchObject({ code: 'NUMERIC' });
    } finally {
      await release();
    }
  });
});
