import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointWeights } from '../../../src/convert/sync-weights.js';
import { readKontextCheckpointConfig, type KontextCheckpointConfig } from '../../../src/families/unipic2-kontext/convert/diffusers-configs.js';
import { KontextCheckpoint } from '../../../src/families/unipic2-kontext/convert/kontext-checkpoint.js';
import { accountKontextKeys } from '../../../src/families/unipic2-kontext/convert/kontext-keys.js';
import { buildMmditGraph } from '../../../src/convert/graphs/mmdit/mmdit-graph.js';
import { patchify } from '../../../src/core/diffusion/patchify.js';
import { cropPositionTable } from '../../../src/core/diffusion/position-embedding.js';
import { floatFeed, makeContext, runGraph } from '../../convert/graphs/layers/support/graph-runner.js';
import { goldenError, goldenFloat, TINY_CHECKPOINT } from './support/kontext-fixtures.js';

/**
 * Every recorded stage of the step-0 transformer call (test/fixtures/kontext, `step0.call.*`):
 * patch embedding, temb, context embedding, both streams after each block, norm_out → proj_out.
 */
let checkpoint: KontextCheckpoint;
let structure: KontextCheckpointConfig;
let weights: CheckpointWeights;

beforeAll(async () => {
  checkpoint = await KontextCheckpoint.open(TINY_CHECKPOINT);
  structure = await readKontextCheckpointConfig(TINY_CHECKPOINT, true);
  const keys = accountKontextKeys(structure, checkpoint.tensors);
  weights = await CheckpointWeights.open(
    checkpoint,
    keys.required.filter((k) => k.startsWith('transformer.')),
  );
});

afterAll(async () => {
  weights?.close();
  await checkpoint?.close();
});

function twice(rows: Float32Array): Float32Array {
  const out = new Float32Array(rows.length * 2);
  out.set(rows);
  out.set(rows, rows.length);
  return out;
}

describe('Kontext transformer stages vs the oracle', () => {
  for (const [run, attention] of [
    ['t2i_h64w48', 'fused'],
    ['t2i_h64w48', 'standard'],
    ['edit_h48w64', 'fused'],
    ['edit_h48w64', 'standard'],
  ] as const) {
    it(`${run}, ${attention} attention: every stage of the step-0 call`, async () => {
      const { ctx, finish } = makeContext(weights as never);
      buildMmditGraph(ctx, structure.transformer, { intermediates: true, attention });
      const latent = goldenFloat(`run.${run}.step0.latent_in`);
      const [, C, h, w] = latent.shape;
      const n = (h / 2) * (w / 2);
      const edit = run.startsWith('edit');
      const pos = cropPositionTable({ width: 32, maxSize: 24, baseSize: 16, interpolationScale: 1, rounding: 'bfloat16' }, h / 2, w / 2);
      const negative = goldenFloat(`text.${edit ? 'edit_negative' : 'empty'}.prompt_embeds`).data;
      const positive = goldenFloat(`text.${edit ? 'edit_prompt' : 't2i_prompt'}.prompt_embeds`).data;
      const text = new Float32Array(negative.length * 2);
      text.set(negative);
      text.set(positive, negative.length);
      const t = goldenFloat(`run.${run}.timesteps`).data[0];
      const out = await runGraph(finish(), {
        hidden_states: floatFeed(twice(patchify(latent.data, 1, C, h, w, 2)), [2, n, 64]),
        ref_hidden_states: floatFeed(edit ? twice(patchify(goldenFloat(`run.${run}.ref_latent`).data, 1, C, h, w, 2)) : [], [2, edit ? n : 0, 64]),
        pos_embed: floatFeed(edit ? twice(pos) : pos, [1, edit ? 2 * n : n, 32]),
        encoder_hidden_states: floatFeed(text, [2, 333, 32]),
        pooled_projections: floatFeed(goldenFloat(`run.${run}.pooled`).data, [2, 24]),
        timestep: floatFeed([t, t], [2]),
      });
      const check = (ours: Float32Array, name: string) => expect(goldenError(ours, goldenFloat(`run.${run}.step0.call.${name}`).data), name).toBeLessThan(1e-4);
      // The graph embeds reference and target together; the oracle records the target's rows (and the reference's apart).
      const patchEmbed = out.patch_embed.data;
      const rows = (data: Float32Array, from: number, count: number, total: number) =>
        Float32Array.from({ length: 2 * count * 32 }, (_, i) => data[(Math.floor(i / (count * 32)) * total + from) * 32 + (i % (count * 32))]);
      check(edit ? rows(patchEmbed, n, n, 2 * n) : patchEmbed, 'patch_embed');
      if (edit) check(rows(patchEmbed, 0, n, 2 * n), 'ref_patch_embed');
      check(out.temb.data, 'temb');
      check(out.context_embed.data, 'context_embed');
      for (const j of [0, 1, 2]) {
        check(out[`block${j}.image`].data, `block${j}.image`);
        if (j < 2) check(out[`block${j}.context`].data, `block${j}.context`);
      }
      check(out.velocity.data, 'proj_out');
    });
  }
});
