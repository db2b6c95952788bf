import { z } from 'zod';

const index = z.number().int().min(0);
const positive = z.number().int().positive();

/**
 * One pass of a strip-encoded VAE encoder (docs/model-format.md, "Strip VAE encoder"): it computes
 * tensor `output` strip by strip from stored tensors (`inputs`, each read with `lo`/`hi` halo rows
 * around `ratio` input rows per output row), recomputing what lies between. `norms` lists the
 * tensors whose whole-image GroupNorm statistics the pass is fed, in the order of its `mean<j>` /
 * `rstd<j>` inputs. `store`: the output is kept at full resolution for later passes; `stats`: its
 * statistics are accumulated for a later pass's norm (a pass may do both, or only the latter — a
 * statistics pass, whose output is dropped strip by strip).
 */
export const stripPassSchema = z
  .object({
    output: index,
    store: z.boolean(),
    stats: z.boolean(),
    inputs: z.array(z.object({ tensor: index, lo: index, hi: index }).strict()).min(1),
    norms: z.array(index),
  })
  .strict();
export type StripPass = z.infer<typeof stripPassSchema>;

/**
 * A family-neutral description of the `vae_encoder_strips` graph: tensor 0 is the pixels; every
 * tensor has a channel count and a `scale` (the image's rows per row of it: 1, 2, 4 …). One graph
 * holds every pass (inputs `p<k>_in<i>`, `p<k>_mean<j>`, `p<k>_rstd<j>`, `p<k>_top`, `p<k>_height`,
 * output `p<k>_y`) and the `tail` (`tail_x` → the family's encoder `outputs`), which encodes the
 * last stored tensor in one run (`dummy`: the dims of a minimal `tail_x`); the runtime feeds one
 * part real data and the others minimal dummies.
 */
export const stripEncoderSchema = z
  .object({
    graph: z.string(),
    groups: positive,
    epsilon: z.number().positive(),
    tensors: z.array(z.object({ channels: positive, scale: positive }).strict()).min(2),
    passes: z.array(stripPassSchema).min(1),
    tail: z.object({ input: index, dummy: z.array(positive).length(4), outputs: z.array(z.string()).min(1) }).strict(),
  })
  .strict()
  .superRefine((plan, issues) => {
    const ready = new Set([0]);
    const statistics = new Set<number>();
    plan.passes.forEach((pass, k) => {
      const at = (message: string) => issues.addIssue({ code: 'custom', path: ['passes', k], message });
      if (pass.output === 0 || pass.output >= plan.tensors.length) at(`output ${pass.output} is not a computed tensor`);
      for (const input of pass.inputs) if (!ready.has(input.tensor)) at(`input ${input.tensor} is not stored by an earlier pass`);
      for (const norm of pass.norms) if (!statistics.has(norm)) at(`norm of ${norm} has no statistics from an earlier pass`);
      const out = plan.tensors[pass.output];
      for (const input of pass.inputs) {
        const source = plan.tensors[input.tensor];
        if (out && source && out.scale % source.scale !== 0) at(`input ${input.tensor} is not at a finer resolution than the output`);
      }
      if (pass.store) ready.add(pass.output);
      if (pass.stats) {
        if (out && out.channels % plan.groups !== 0) at(`${out.channels} channels do not split into ${plan.groups} groups`);
        statistics.add(pass.output);
      }
    });
    if (!ready.has(plan.tail.input)) issues.addIssue({ code: 'custom', path: ['tail', 'input'], message: 'the tail must read a stored tensor' });
  });
export type StripEncoderPlan = z.infer<typeof stripEncoderSchema>;

/** The feed and output names of pass `k`. */
export function stripPassNames(k: number) {
  return {
    input: (i: number) => `p${k}_in${i}`,
    mean: (j: number) => `p${k}_mean${j}`,
    rstd: (j: number) => `p${k}_rstd${j}`,
    top: `p${k}_top`,
    height: `p${k}_height`,
    y: `p${k}_y`,
  } as const;
}

/** The tail's input name. */
export const STRIP_ENCODER_TAIL_INPUT = 'tail_x';

/** The graph name every family uses for its strip encoder. */
export const STRIP_ENCODER_GRAPH = 'vae_encoder_strips';
