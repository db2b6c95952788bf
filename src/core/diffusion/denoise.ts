import { throwIfAborted } from '../../errors/abort-error.js';
import { float32, takeFloat32 } from '../tensor.js';
import { applyGuidance, eulerStep, type FlowMatchSchedule } from './flow-match-scheduler.js';
import type { Sd3DiffusionConfig } from './sd3-diffusion-config.js';
import { cropPositionTable } from './position-embedding.js';
import { patchify, unpatchify } from './patchify.js';
import type { PromptEmbeddings } from './prompt-embeddings.js';
import type { DiffusionGraphRunner } from './diffusion-graph-runner.js';

export interface DenoiseInput {
  /** Start latent `[1, C, h, w]`, updated in place to the final latent. */
  readonly latent: Float32Array;
  readonly height: number;
  readonly width: number;
  /** Edit: the clean reference latent `[1, C, h, w]` (same size), fed to every step. */
  readonly reference?: Float32Array;
  /** `[negative, positive]` rows when `guidance > 1`, else the positive row alone. */
  readonly prompts: PromptEmbeddings;
  readonly guidance: number;
  readonly schedule: FlowMatchSchedule;
  readonly signal?: AbortSignal;
  readonly onStepStart?: (step: number) => void;
  /** After each step with the guided velocity (for previews: x0 = x − σ·v). */
  readonly onStepEnd?: (step: number, velocity: Float32Array) => Promise<void> | void;
}

function repeatRows(rows: Float32Array, times: number): Float32Array {
  const out = new Float32Array(rows.length * times);
  for (let i = 0; i < times; i++) out.set(rows, i * rows.length);
  return out;
}

/**
 * The pipeline's denoising loop (the official `pipeline_stable_diffusion_3_kontext.py` `__call__`): every step runs the transformer once on
 * `cat([x, x])` (CFG batch `[negative, positive]`), the same timestep for both rows, the
 * reference tokens (edit) ahead of the target tokens with the same position rows; then
 * `u + g·(c − u)` and the Euler step, in float32.
 */
export async function denoise(graphs: DiffusionGraphRunner, config: Sd3DiffusionConfig, input: DenoiseInput): Promise<void> {
  const t = config.transformer;
  const p = t.patchSize;
  const C = t.inChannels;
  const { height: h, width: w } = input;
  const rows = input.prompts.dims[0];
  const guided = input.guidance > 1;
  if (rows !== (guided ? 2 : 1)) throw new RangeError(`expected ${guided ? 2 : 1} prompt rows, got ${rows}`);
  const tokens = (h / p) * (w / p);
  const positions = cropPositionTable({ width: t.width, ...t.positionTable }, h / p, w / p);
  const reference = input.reference ? repeatRows(patchify(input.reference, 1, C, h, w, p), rows) : new Float32Array(0);
  const referenceTokens = input.reference ? tokens : 0;
  const pos = input.reference ? repeatRows(positions, 2) : positions;
  const text = float32(input.prompts.dims, input.prompts.embeds);
  const pooled = float32(input.prompts.pooledDims, input.prompts.pooled);
  const patch = C * p * p;

  for (let step = 0; step < input.schedule.timesteps.length; step++) {
    throwIfAborted(input.signal);
    input.onStepStart?.(step);
    const x = repeatRows(patchify(input.latent, 1, C, h, w, p), rows);
    const timestep = input.schedule.timesteps[step];
    const out = await graphs.run(
      'transformer',
      {
        hidden_states: float32([rows, tokens, patch], x),
        ref_hidden_states: float32([rows, referenceTokens, patch], reference),
        pos_embed: float32([1, referenceTokens + tokens, t.width], pos),
        encoder_hidden_states: text,
        pooled_projections: pooled,
        timestep: float32([rows], new Float32Array(rows).fill(timestep)),
      },
      { signal: input.signal },
    );
    const velocity = unpatchify((await takeFloat32(out.velocity)).data, rows, t.outChannels, h, w, p);
    const size = t.outChannels * h * w;
    const v = guided ? applyGuidance(velocity.subarray(0, size), velocity.subarray(size, 2 * size), input.guidance) : velocity;
    await input.onStepEnd?.(step, v);
    eulerStep(input.latent, v, input.schedule, step);
  }
}
