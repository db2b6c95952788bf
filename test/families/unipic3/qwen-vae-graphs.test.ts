import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSafetensorsFile } from '../../../src/convert/readers/safetensors-file-reader.js';
import { FrameSliceWeights } from '../../../src/families/unipic3/convert/vae/frame-slice-weights.js';
import { buildQwenVaeDecoderGraph } from '../../../src/families/unipic3/convert/vae/qwen-vae-decoder-graph.js';
import { buildQwenVaeEncoderGraph } from '../../../src/families/unipic3/convert/vae/qwen-vae-encoder-graph.js';
import { qwenVaeConfigFromJson } from '../../../src/families/unipic3/convert/vae/qwen-vae-config.js';
import { floatFeed, makeContext, runGraph } from '../../convert/graphs/layers/support/graph-runner.js';
import { UNIPIC3_CHECKPOINT, golden, loadAll, relativeError, unipic3Index } from './support/unipic3-fixtures.js';

/**
 * The 2-D Qwen-Image VAE graphs, built from the published-layout 3-D checkpoint through
 * FrameSliceWeights, against diffusers' 3-D AutoencoderKLQwenImage (tolerance 1e-4 relative;
 * measured ≤ 1.5e-6).
 */
const config = qwenVaeConfigFromJson(JSON.parse(readFileSync(join(UNIPIC3_CHECKPOINT, 'vae', 'config.json'), 'utf8')));
const weights = (async () =>
  new FrameSliceWeights(await loadAll(await openSafetensorsFile(join(UNIPIC3_CHECKPOINT, 'vae', 'diffusion_pytorch_model.safetensors')))))();

describe('Qwen-Image VAE as 2-D graphs vs the PyTorch 3-D VAE', () => {
  it('the oracle proved the 3-D → 2-D reduction on diffusers itself', () => {
    const proof = unipic3Index.report.vae_3d_vs_2d as Record<string, { encode_max_abs_diff: number; decode_max_abs_diff: number }>;
    for (const entry of Object.values(proof)) {
      expect(entry.encode_max_abs_diff).toBeLessThan(1e-5);
      expect(entry.decode_max_abs_diff).toBeLessThan(1e-5);
    }
  });

  it('vae_encoder gives the normalised posterior mean', async () => {
    const { ctx, finish } = makeContext(await weights);
    buildQwenVaeEncoderGraph(ctx, config);
    const image = golden('vae.image');
    const out = await runGraph(finish(), { pixels: floatFeed(image.data, image.shape) });
    const expected = golden('vae.latents_normalized');
    expect(out.latents.dims).toEqual(expected.shape);
    expect(relativeError(out.latents.data, expected.data)).toBeLessThan(1e-4);
  });

  it('vae_decoder unnormalises, decodes and clamps', async () => {
    const { ctx, finish } = makeContext(await weights);
    buildQwenVaeDecoderGraph(ctx, config);
    const latents = golden('vae.decoder_input_normalized');
    const out = await runGraph(finish(), { latents: floatFeed(latents.data, latents.shape) });
    const expected = golden('vae.decoded');
    expect(out.pixels.dims).toEqual(expected.shape);
    expect(relativeError(out.pixels.data, expected.data)).toBeLessThan(1e-4);
  });

  it('the fused-attention variant matches too', async () => {
    const { ctx, finish } = makeContext(await weights);
    buildQwenVaeDecoderGraph(ctx, config, 'fused');
    const latents = golden('vae.decoder_input_normalized');
    const out = await runGraph(finish(), { latents: floatFeed(latents.data, latents.shape) });
    expect(relativeError(out.pixels.data, golden('vae.decoded').data)).toBeLessThan(1e-4);
  });
});
