import { describe, expect, it } from 'vitest';
import { buildDecoderEmbedGraph } from '../../../../src/families/unipic1/convert/graphs/mar/decoder-embed-graph.js';
import { buildMarDecoderGraph } from '../../../../src/families/unipic1/convert/graphs/mar/mar-decoder-graph.js';
import { buildMarEncoderGraph } from '../../../../src/families/unipic1/convert/graphs/mar/mar-encoder-graph.js';
import type { MemoryWeights } from '../../../../src/convert/graphs/weights.js';
import { floatFeed, int64Feed, makeContext, runGraph, type Feed } from '../layers/support/graph-runner.js';
import { GOLDEN_TOLERANCE, goldenError, readGoldenFloat, readGoldenInt64, tinyCheckpointWeights } from './support/reference-fixtures.js';
import { TINY_MAR_CONFIG } from './support/tiny-mar-weights.js';

/**
 * The MAR graphs built from the tiny checkpoint (pytorch_model.bin, read by the converter's
 * readers) against the PyTorch oracle's goldens, with the oracle's tolerance
 * |a − b| ≤ 1e-4 · max(1, max|expected|). Measured (worst |a − b| / max(1, max|b|)): x_enc 3.0e-7,
 * llm_in 4.6e-7, z 2.6e-7 (both fills), decoder_embed exact to float32 rounding.
 */

let weights: Promise<MemoryWeights> | undefined;
function checkpointWeights(): Promise<MemoryWeights> {
  weights ??= tinyCheckpointWeights((key) => key.startsWith('mar.') || key.startsWith('proj_in.') || key.startsWith('proj_out.'));
  return weights;
}

async function floatFeedOf(name: string): Promise<Feed> {
  const golden = await readGoldenFloat(name);
  return floatFeed(golden.data, golden.shape);
}

describe('MAR graphs vs the PyTorch oracle (tiny checkpoint)', () => {
  it('mar_encoder reproduces x_enc and llm_in', async () => {
    const { ctx, finish } = makeContext(await checkpointWeights());
    buildMarEncoderGraph(ctx, TINY_MAR_CONFIG);
    const out = await runGraph(finish(), {
      latents: await floatFeedOf('mar_encoder.latents'),
      pos_embed: await floatFeedOf('mar_encoder.pos_embed'),
    });
    const encoded = await readGoldenFloat('mar_encoder.x_enc');
    const llmInput = await readGoldenFloat('mar_encoder.llm_in');
    expect(out.x_enc.dims).toEqual(encoded.shape);
    expect(out.llm_in.dims).toEqual(llmInput.shape);
    expect(goldenError(out.x_enc.data, encoded.data)).toBeLessThan(GOLDEN_TOLERANCE);
    expect(goldenError(out.llm_in.data, llmInput.data)).toBeLessThan(GOLDEN_TOLERANCE);
  });

  it.each(['mar_decoder', 'mar_decoder_edit'])('%s reproduces z (mask-token and edit fills)', async (prefix) => {
    const { ctx, finish } = makeContext(await checkpointWeights());
    buildMarDecoderGraph(ctx, TINY_MAR_CONFIG);
    const slots = await readGoldenInt64(`${prefix}.scatter_idx`);
    const out = await runGraph(finish(), {
      x_enc: await floatFeedOf(`${prefix}.x_enc`),
      llm_out: await floatFeedOf(`${prefix}.llm_out`),
      scatter_idx: int64Feed(Array.from(slots.data, Number), slots.shape),
      fill: await floatFeedOf(`${prefix}.fill`),
      decoder_pos: await floatFeedOf(`${prefix}.decoder_pos`),
      diffusion_pos: await floatFeedOf(`${prefix}.diffusion_pos`),
    });
    const expected = await readGoldenFloat(`${prefix}.z`);
    expect(out.z.dims).toEqual(expected.shape);
    expect(goldenError(out.z.data, expected.data)).toBeLessThan(GOLDEN_TOLERANCE);
  });

  it('decoder_embed reproduces the edit fill', async () => {
    const { ctx, finish } = makeContext(await checkpointWeights());
    buildDecoderEmbedGraph(ctx, TINY_MAR_CONFIG);
    const out = await runGraph(finish(), { x_con: await floatFeedOf('decoder_embed.x_con') });
    const expected = await readGoldenFloat('decoder_embed.fill');
    expect(goldenError(out.fill.data, expected.data)).toBeLessThan(GOLDEN_TOLERANCE);
  });
});
