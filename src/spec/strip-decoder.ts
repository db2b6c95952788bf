import { z } from 'zod';

const index = z.number().int().min(0);
const channels = z.number().int().positive();

/**
 * One stage of a strip-decoded VAE decoder (docs/model-format.md, "Strip VAE decoder"). Stage k
 * writes tensor k; `input`/`skip` name earlier stages' tensors.
 * - `head`: the low-resolution part of the decoder, one run over the whole latent (`dummy`: the
 *   dims of a minimal latent fed while another stage runs).
 * - `conv`: GroupNorm (statistics of the whole input given as `mean`/`rstd` per group) → SiLU →
 *   3×3 conv, plus `skip` (through a baked 1×1 shortcut when the channels change), strip by strip.
 * - `upsample`: nearest ×2 → 3×3 conv, strip by strip.
 */
export const stripStageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('head'), dummy: z.array(channels).min(1) }).strict(),
  z.object({ kind: z.literal('conv'), input: index, channels, skip: index.optional(), skipChannels: channels.optional() }).strict(),
  z.object({ kind: z.literal('upsample'), input: index, channels }).strict(),
]);
export type StripStage = z.infer<typeof stripStageSchema>;

/**
 * A family-neutral description of the `vae_decoder_strips` graph: one graph holding every stage,
 * each with its own inputs `s<k>_x`, `s<k>_skip`, `s<k>_mean`, `s<k>_rstd`, `s<k>_mask` and output
 * `s<k>_y`; the runtime feeds one stage real data and the others minimal dummies.
 */
export const stripDecoderSchema = z
  .object({
    /** The manifest graph that holds the stages. */
    graph: z.string(),
    /** GroupNorm groups and epsilon of every `conv` stage's norm. */
    groups: channels,
    epsilon: z.number().positive(),
    stages: z.array(stripStageSchema).min(2),
    /**
     * `graph`: every tail stage whose output splits into `groups` also outputs its strip's
     * per-group mean `s<k>_y_mean` and sum of squared deviations from it `s<k>_y_m2` (`[groups]`),
     * which the runtime merges instead of reading the strip again in JS. Absent (folders converted
     * before): the runtime computes them from the strip.
     */
    statistics: z.literal('graph').optional(),
  })
  .strict()
  .superRefine((plan, issues) => {
    plan.stages.forEach((stage, k) => {
      if ((stage.kind === 'head') !== (k === 0)) issues.addIssue({ code: 'custom', path: ['stages', k], message: 'stage 0, and only it, is the head' });
      if (stage.kind === 'head') return;
      if (stage.input >= k) issues.addIssue({ code: 'custom', path: ['stages', k, 'input'], message: 'must name an earlier stage' });
      if (stage.kind === 'conv') {
        if (stage.channels % plan.groups !== 0)
          issues.addIssue({ code: 'custom', path: ['stages', k, 'channels'], message: `not divisible into ${plan.groups} groups` });
        if ((stage.skip === undefined) !== (stage.skipChannels === undefined) || (stage.skip !== undefined && stage.skip >= k)) {
          issues.addIssue({ code: 'custom', path: ['stages', k, 'skip'], message: 'skip needs skipChannels and must name an earlier stage' });
        }
      }
    });
  });
export type StripDecoderPlan = z.infer<typeof stripDecoderSchema>;

/** The feed and output names of stage `k`. */
export function stripNames(k: number) {
  return {
    x: `s${k}_x`,
    skip: `s${k}_skip`,
    mean: `s${k}_mean`,
    rstd: `s${k}_rstd`,
    mask: `s${k}_mask`,
    y: `s${k}_y`,
    yMean: `s${k}_y_mean`,
    yM2: `s${k}_y_m2`,
  } as const;
}

/** The graph name every family uses for its strip decoder. */
export const STRIP_DECODER_GRAPH = 'vae_decoder_strips';
