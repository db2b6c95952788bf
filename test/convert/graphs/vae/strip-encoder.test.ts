import { describe, expect, it } from 'vitest';
import { encodeInStrips } from '../../../../src/core/vae/strip-encode.js';
import { takeFloat32, float32 } from '../../../../src/core/tensor.js';
import { buildVaeEncoderGraph, buildVaeEncoderStripGraph } from '../../../../src/families/unipic1/convert/graphs/vae/vae-encoder-graph.js';
import { stripEncoderSchema } from '../../../../src/spec/strip-encoder.js';
import { floatFeed, makeContext, maxNormalizedError, randomArray, runGraph } from '../layers/support/graph-runner.js';
import { sessionGraphs } from './support/strip-session.js';
import { TINY_VAE_CONFIG, tinyVaeWeights } from './support/tiny-vae-weights.js';

const config = TINY_VAE_CONFIG;
const weights = tinyVaeWeights();

function stripPlan() {
  const strips = makeContext(weights);
  const plan = stripEncoderSchema.parse(buildVaeEncoderStripGraph(strips.ctx, config, { attention: 'fused' }));
  return { plan, graph: strips.finish() };
}

async function compare(height: number, width: number, stripRows: number | undefined) {
  const pixels = randomArray(3 * height * width, 17 + height * width, 1);
  const oneShot = makeContext(weights);
  buildVaeEncoderGraph(oneShot.ctx, config, { attention: 'fused' });
  const expected = (await runGraph(oneShot.finish(), { pixels: floatFeed(pixels, [1, 3, height, width]) })).latents;

  const { plan, graph } = stripPlan();
  const { graphs, runs, release } = await sessionGraphs(graph);
  try {
    const out = await encodeInStrips(graphs, plan, float32([1, 3, height, width], pixels), { stripRows });
    const latents = await takeFloat32(out.latents);
    expect(latents.dims).toEqual(expected.dims);
    return { error: maxNormalizedError(latents.data, expected.data), runs: runs(), passes: plan.passes.length };
  } finally {
    await release();
  }
}

describe('strip VAE encoder (UniPic-1 KL-16)', () => {
  it('stores one tensor per level and recomputes the rest: passes, halos and statistics of the plan', () => {
    const { plan } = stripPlan();
    // conv_in, level 0 (2 ResnetBlocks, downsample), level 1 the same: 11 computed tensors.
    expect(plan.tensors).toHaveLength(12);
    expect(plan.passes.filter((p) => p.store).map((p) => p.output)).toEqual([3, 6, 8, 11]);
    expect(plan.passes.filter((p) => !p.store).map((p) => p.output)).toEqual([1, 2, 4, 7, 9]);
    // The pass making the level-0 downsample recomputes block 1 from the stored block-0 output:
    // the stride-2 conv reads rows 2t…2b of block 1 (one below the strip), its two 3×3 convs one
    // more row on each side each, so the stored tensor is read with 2 rows above and 3 below.
    const down = plan.passes.find((p) => p.output === 6)!;
    expect(down.inputs).toEqual([{ tensor: 3, lo: 2, hi: 3 }]);
    expect(down.norms).toEqual([3, 4]);
    expect(plan.tail).toMatchObject({ input: 11, outputs: ['latents'] });
  });

  // Exact up to float32 rounding: the whole image's GroupNorm statistics (float64 here, float32
  // in ORT's GroupNormalization) and the same convolutions over halo rows.
  it('equals the one-shot encode within 1e-5 with 2-row strips (many strips per pass)', async () => {
    const { error, runs, passes } = await compare(64, 48, 2);
    console.log(`strip encoder vs one-shot, 2-row strips: ${error.toExponential(2)} over ${runs} runs`);
    expect(error).toBeLessThan(1e-5);
    expect(runs).toBeGreaterThan(passes * 4);
  });

  it('equals the one-shot encode with odd strip heights and a non-square image', async () => {
    expect((await compare(48, 80, 5)).error).toBeLessThan(1e-5);
  });

  it('equals the one-shot encode with one strip per pass', async () => {
    const { error, runs, passes } = await compare(32, 32, undefined);
    expect(error).toBeLessThan(1e-5);
    expect(runs).toBe(passes + 1);
  });

  it('reports a NaN as a NumericError, not a wrong latent', async () => {
    const { plan, graph } = stripPlan();
    const { graphs, release } = await sessionGraphs(graph);
    try {
      const pixels = randomArray(3 * 32 * 32, 5, 1);
      pixels[100] = Number.NaN;
      await expect(encodeInStrips(graphs, plan, float32([1, 3, 32, 32], pixels), { stripRows: 4 })).rejects.toMatchObject({ code: 'NUMERIC' });
    } finally {
      await release();
    }
  });
});
