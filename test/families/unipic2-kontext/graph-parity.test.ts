import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertKontextCheckpoint, type KontextConvertSummary } from '../../../src/families/unipic2-kontext/convert/convert-kontext.js';
import { cropPositionTable } from '../../../src/core/diffusion/position-embedding.js';
import { patchify, unpatchify } from '../../../src/core/diffusion/patchify.js';
import { float32Tensor, freshDir, goldenError, goldenFloat, goldenInt64, int64Tensor, runGraphFile, TINY_CHECKPOINT } from './support/kontext-fixtures.js';

/**
 * Every fp32 graph converted from the oracle's tiny bf16 checkpoint, against the PyTorch goldens
 * (test/fixtures/kontext/README.md), tolerance 1e-4 · max(1, max|expected|).
 */
const TOLERANCE = 1e-4;
let out: string;
let summary: KontextConvertSummary;

beforeAll(async () => {
  out = freshDir('graphs');
  summary = await convertKontextCheckpoint(TINY_CHECKPOINT, out, { dtypes: ['fp32'] });
});

const graph = (name: string) => join(out, `${name}.fp32.onnx`);

describe('Kontext graphs vs the PyTorch oracle (fp32)', () => {
  it('accounts for every key and finds the bf16 position table', () => {
    expect(summary.keys.ignored.map((k) => k.key)).toContain('transformer.pos_embed.pos_embed');
    expect(summary.manifest.config.transformer.positionTable.rounding).toBe('bfloat16');
    expect(Object.keys(summary.manifest.graphs).sort()).toEqual([
      'clip_g',
      'clip_l',
      't5_encoder',
      'transformer',
      'vae_decoder',
      'vae_decoder_strips',
      'vae_encoder',
      'vae_encoder_strips',
    ]);
  });

  for (const key of ['t2i_prompt', 'empty', 'edit_negative', 'long']) {
    it(`CLIP-L, CLIP-G and T5 reproduce text.${key}`, async () => {
      for (const [name, ids, hidden, pooled] of [
        ['clip_l', 'ids_clip_l', 'clip_l_hidden', 'clip_l_pooled'],
        ['clip_g', 'ids_clip_g', 'clip_g_hidden', 'clip_g_pooled'],
      ] as const) {
        const result = await runGraphFile(graph(name), { input_ids: int64Tensor(goldenInt64(`text.${key}.${ids}`), [1, 77]) });
        expect(goldenError(result.hidden_states.data, goldenFloat(`text.${key}.${hidden}`).data)).toBeLessThan(TOLERANCE);
        expect(goldenError(result.pooled.data, goldenFloat(`text.${key}.${pooled}`).data)).toBeLessThan(TOLERANCE);
      }
      const t5 = await runGraphFile(graph('t5_encoder'), { input_ids: int64Tensor(goldenInt64(`text.${key}.ids_t5`), [1, 256]) });
      expect(goldenError(t5.last_hidden_state.data, goldenFloat(`text.${key}.t5_hidden`).data)).toBeLessThan(TOLERANCE);
    });
  }

  for (const run of ['t2i_h64w48', 'edit_h48w64']) {
    it(`transformer reproduces the step-0 velocity of ${run}`, async () => {
      const latent = goldenFloat(`run.${run}.step0.latent_in`);
      const [, channels, h, w] = latent.shape;
      const edit = run.startsWith('edit');
      const pos = cropPositionTable({ width: 32, maxSize: 24, baseSize: 16, interpolationScale: 1, rounding: 'bfloat16' }, h / 2, w / 2);
      const tokens = patchify(latent.data, 1, channels, h, w, 2);
      const both = new Float32Array(tokens.length * 2);
      both.set(tokens);
      both.set(tokens, tokens.length);
      const n = (h / 2) * (w / 2);
      let reference = new Float32Array(0);
      let positions = pos;
      if (edit) {
        const ref = patchify(goldenFloat(`run.${run}.ref_latent`).data, 1, channels, h, w, 2);
        reference = new Float32Array(ref.length * 2);
        reference.set(ref);
        reference.set(ref, ref.length);
        positions = new Float32Array(pos.length * 2);
        positions.set(pos);
        positions.set(pos, pos.length);
      }
      const negative = goldenFloat(`text.${edit ? 'edit_negative' : 'empty'}.prompt_embeds`).data;
      const positive = goldenFloat(`text.${edit ? 'edit_prompt' : 't2i_prompt'}.prompt_embeds`).data;
      const text = new Float32Array(negative.length * 2);
      text.set(negative);
      text.set(positive, negative.length);
      const timestep = goldenFloat(`run.${run}.timesteps`).data[0];
      const result = await runGraphFile(graph('transformer'), {
        hidden_states: float32Tensor(both, [2, n, 64]),
        ref_hidden_states: float32Tensor(reference, [2, edit ? n : 0, 64]),
        pos_embed: float32Tensor(positions, [1, edit ? 2 * n : n, 32]),
        encoder_hidden_states: float32Tensor(text, [2, 333, 32]),
        pooled_projections: float32Tensor(goldenFloat(`run.${run}.pooled`).data, [2, 24]),
        timestep: float32Tensor(new Float32Array([timestep, timestep]), [2]),
      });
      expect(goldenError(result.velocity.data, goldenFloat(`run.${run}.step0.call.proj_out`).data)).toBeLessThan(TOLERANCE);
      const velocity = unpatchify(result.velocity.data, 2, channels, h, w, 2);
      expect(goldenError(velocity, goldenFloat(`run.${run}.step0.call.velocity`).data)).toBeLessThan(TOLERANCE);
    });
  }

  it('VAE encoder gives the posterior moments, decoder the pixels', async () => {
    const pixels = goldenFloat('vae.encode.pixels');
    const enc = await runGraphFile(graph('vae_encoder'), { pixels: float32Tensor(pixels.data, pixels.shape) });
    expect(goldenError(enc.mean.data, goldenFloat('vae.encode.mean').data)).toBeLessThan(TOLERANCE);
    const logvar = Float32Array.from(enc.logvar.data, (v) => Math.min(20, Math.max(-30, v)));
    expect(goldenError(logvar, goldenFloat('vae.encode.logvar').data)).toBeLessThan(TOLERANCE);
    const input = goldenFloat('vae.decode.decoder_input');
    const dec = await runGraphFile(graph('vae_decoder'), { latents: float32Tensor(input.data, input.shape) });
    expect(goldenError(dec.pixels.data, goldenFloat('vae.decode.decoded').data)).toBeLessThan(TOLERANCE);
  });
});
