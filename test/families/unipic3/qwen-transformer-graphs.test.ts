import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MemoryWeights } from '../../../src/convert/graphs/weights.js';
import { openDiffusersComponent } from '../../../src/families/unipic3/convert/open-diffusers-component.js';
import { qwenTransformerConfigFromJson } from '../../../src/families/unipic3/convert/transformer/qwen-transformer-config.js';
import {
  buildQwenTransformerBlocksGraph,
  buildQwenTransformerInputGraph,
  buildQwenTransformerModulationGraph,
  buildQwenTransformerOutputGraph,
} from '../../../src/families/unipic3/convert/transformer/qwen-transformer-graphs.js';
import type { JointAttention } from '../../../src/families/unipic3/convert/transformer/qwen-transformer-block.js';
import { qwenRopeTables } from '../../../src/families/unipic3/latents/rope-tables.js';
import { floatFeed, makeContext, runGraph, type Feed } from '../../convert/graphs/layers/support/graph-runner.js';
import { UNIPIC3_CHECKPOINT, golden, loadAll, relativeError } from './support/unipic3-fixtures.js';

/**
 * The Qwen-Image transformer graphs from the tiny published-layout checkpoint (sharded bf16
 * safetensors) against diffusers' QwenImageTransformer2DModel: per block and end to end,
 * tolerance 1e-4 relative (measured ≤ 1.8e-6). RoPE tables come from the host code, not the goldens.
 */
const config = qwenTransformerConfigFromJson(JSON.parse(readFileSync(join(UNIPIC3_CHECKPOINT, 'transformer', 'config.json'), 'utf8')));
const weights: Promise<MemoryWeights> = openDiffusersComponent(join(UNIPIC3_CHECKPOINT, 'transformer')).then(loadAll);
const GRIDS = [
  { height: 3, width: 4 },
  { height: 2, width: 3 },
  { height: 3, width: 3 },
];
const tables = qwenRopeTables(GRIDS, 5, config.axesDimsRope);
const pairs = config.headDim / 2;
const ropeFeeds: Record<string, Feed> = {
  image_rope_cos: floatFeed(tables.imageCos, [tables.imageCos.length / pairs, pairs]),
  image_rope_sin: floatFeed(tables.imageSin, [tables.imageSin.length / pairs, pairs]),
  text_rope_cos: floatFeed(tables.textCos, [5, pairs]),
  text_rope_sin: floatFeed(tables.textSin, [5, pairs]),
};
const feed = (name: string): Feed => {
  const g = golden(name);
  return floatFeed(g.data, g.shape);
};

async function runBlocks(first: number, count: number, image: Feed, text: Feed, attention: JointAttention = 'standard') {
  const { ctx, finish } = makeContext(await weights);
  buildQwenTransformerBlocksGraph(ctx, config, first, count, attention);
  return runGraph(finish(), { image, text, temb: feed('transformer.temb'), ...ropeFeeds });
}

describe('Qwen-Image transformer graphs vs diffusers (tiny, two references)', () => {
  it('transformer_in: image/text projections and the timestep embedding', async () => {
    const { ctx, finish } = makeContext(await weights);
    buildQwenTransformerInputGraph(ctx, config);
    const out = await runGraph(finish(), {
      latents: feed('transformer.hidden_states'),
      prompt_embeds: feed('transformer.encoder_hidden_states'),
      timestep: feed('transformer.timestep'),
    });
    expect(relativeError(out.image.data, golden('transformer.img_in').data)).toBeLessThan(1e-4);
    expect(relativeError(out.text.data, golden('transformer.txt_in').data)).toBeLessThan(1e-4);
    expect(relativeError(out.temb.data, golden('transformer.temb').data)).toBeLessThan(1e-4);
  });

  it.each([0, 1])('block %i alone reproduces both streams', async (index) => {
    const image = index === 0 ? feed('transformer.img_in') : feed('transformer.block_0.image');
    const text = index === 0 ? feed('transformer.txt_in') : feed('transformer.block_0.text');
    const out = await runBlocks(index, 1, image, text);
    expect(relativeError(out.image_out.data, golden(`transformer.block_${index}.image`).data)).toBeLessThan(1e-4);
    expect(relativeError(out.text_out.data, golden(`transformer.block_${index}.text`).data)).toBeLessThan(1e-4);
  });

  it('two consecutive blocks in one graph (fused attention), then transformer_out sliced to the target', async () => {
    const blocks = await runBlocks(0, 2, feed('transformer.img_in'), feed('transformer.txt_in'), 'fused');
    expect(relativeError(blocks.image_out.data, golden('transformer.block_1.image').data)).toBeLessThan(1e-4);
    const { ctx, finish } = makeContext(await weights);
    buildQwenTransformerOutputGraph(ctx, config);
    const out = await runGraph(finish(), { image: floatFeed(blocks.image_out.data, blocks.image_out.dims as number[]), temb: feed('transformer.temb') });
    const expected = golden('transformer.output_target');
    const channels = expected.shape[2];
    expect(relativeError(out.velocity.data.subarray(0, expected.shape[1] * channels), expected.data)).toBeLessThan(1e-4);
  });

  it('external modulation (transformer_modulation for a batch of timesteps) gives the same blocks', async () => {
    const temb = golden('transformer.temb');
    const other = Float32Array.from(temb.data, (v) => v * 0.5);
    const modulation = makeContext(await weights);
    buildQwenTransformerModulationGraph(modulation.ctx, config);
    // Row 0 is the golden timestep, row 1 another one: rows must not mix.
    const mods = await runGraph(modulation.finish(), { temb: floatFeed([...temb.data, ...other], [2, temb.shape[1]]) });
    const width = 6 * temb.shape[1];
    const row = (name: string): Feed => floatFeed(mods[name].data.subarray(0, width), [1, width]);
    const { ctx, finish } = makeContext(await weights);
    buildQwenTransformerBlocksGraph(ctx, config, 0, 2, 'standard', 'external');
    const out = await runGraph(finish(), {
      image: feed('transformer.img_in'),
      text: feed('transformer.txt_in'),
      ...ropeFeeds,
      'modulation.0.img': row('modulation.0.img'),
      'modulation.0.txt': row('modulation.0.txt'),
      'modulation.1.img': row('modulation.1.img'),
      'modulation.1.txt': row('modulation.1.txt'),
    });
    expect(relativeError(out.image_out.data, golden('transformer.block_1.image').data)).toBeLessThan(1e-4);
    expect(relativeError(out.text_out.data, golden('transformer.block_1.text').data)).toBeLessThan(1e-4);
  });

  it('refuses a block range past the last block', async () => {
    const { ctx } = makeContext(await weights);
    expect(() => buildQwenTransformerBlocksGraph(ctx, config, 1, 2)).toThrow(/outside/);
  });
});
