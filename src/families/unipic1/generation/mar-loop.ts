import { runLlmStep } from '../../../core/llm-kv-cache.js';
import { throwIfAborted } from '../../../errors/abort-error.js';
import type { DeviceTensor, Feed } from '../../../spec/backend.js';
import type { ModelConfig } from '../manifest.js';
import { sampleTokensFused } from '../diffusion/fused-sampler.js';
import { sampleTokens } from '../diffusion/sampler.js';
import type { DiffusionTables } from '../diffusion/schedule.js';
import { planSteps } from '../mar/mask-schedule.js';
import type { UniPic1GraphRunner as Graphs } from '../call-context.js';
import type { RandomSource } from '../../../core/random/random-source.js';
import { float32, int64, takeFloat32 } from '../../../core/tensor.js';
import type { PositionTables } from '../mar/position-tables.js';
import type { Prefix } from './prefix.js';
import { seedRegion, type KnownRegion } from './known-region.js';

export type GuidanceSchedule = 'constant' | 'linear';

export interface MarStepInfo {
  readonly iteration: number;
  readonly iterations: number;
  readonly known: number;
  readonly predicted: number;
}

export interface MarLoopOptions {
  readonly graphs: Graphs;
  readonly config: ModelConfig;
  readonly tables: PositionTables;
  readonly diffusion: DiffusionTables;
  /** The decoder's fill for one row, `[F+N, W]`: mask_token everywhere, or decoder_embed(x_con). */
  readonly fill: Float32Array;
  readonly prefix: Prefix;
  /** Number of images (conditional rows). */
  readonly images: number;
  readonly iterations: number;
  readonly guidance: number;
  readonly guidanceSchedule: GuidanceSchedule;
  readonly temperature: number;
  readonly random: RandomSource;
  /** Region editing: tokens outside the mask start known, holding the source's latents (docs/api.md, "Regions"). */
  readonly region?: KnownRegion;
  readonly signal?: AbortSignal;
  readonly onStepStart?: (info: MarStepInfo) => void;
  readonly onStepFinish?: (info: MarStepInfo, tokens: Float32Array) => void | Promise<void>;
}

const f = Math.fround;

/**
 * The MAR iteration loop of UniPic, shared by generate and edit. Rows are laid out as
 * the official code does: conditional rows 0..G−1, then (with guidance) unconditional rows that
 * copy their conditional row's order and tokens.
 */
export async function runMarLoop(options: MarLoopOptions): Promise<Float32Array> {
  const { graphs, config, tables, prefix, images: g, signal } = options;
  // The encoder and decoder widths are both 1280 in UniPic; each tensor uses its own.
  const { bufferSize: F, tokenDim: C, encoderWidth: We, decoderWidth: W } = config.mar;
  const n = tables.grid * tables.grid;
  const unconditional = options.guidance !== 1;
  const rows = unconditional ? 2 * g : g;
  if (prefix.rows !== rows) throw new Error(`prefix has ${prefix.rows} rows, the loop needs ${rows}`);

  // Orders permute the masked tokens only; without a region every token is masked and known tokens start empty.
  const { orders, tokens, masked, maskedCount: regenerated } = seedRegion(options.region, options.random, g, n, C);
  let maskedCount = regenerated;
  // The cosine schedule runs over the tokens to regenerate; the rest are known from the start.
  const plan = planSteps(regenerated, options.iterations);
  const alreadyKnown = n - regenerated;
  const fill = repeatRows(options.fill, rows);

  for (const step of plan) {
    throwIfAborted(signal);
    const info = { iteration: step.step, iterations: options.iterations, known: alreadyKnown + step.known, predicted: step.predicted };
    options.onStepStart?.(info);
    if (step.predicted === 0) {
      // A schedule over fewer tokens than iterations predicts nothing on some steps; the official
      // loop would run the graphs and discard their output, drawing no noise, so skipping is exact.
      await options.onStepFinish?.(info, tokens);
      continue;
    }
    const k = n - maskedCount;

    // Known tokens in raster order, per row (the same count in every row by construction).
    const known = masked.map((m) => {
      const idx = new Int32Array(k);
      let at = 0;
      for (let p = 0; p < n; p++) if (!m[p]) idx[at++] = p;
      return idx;
    });
    const latents = new Float32Array(rows * k * C);
    const pos = new Float32Array(rows * (F + k) * We);
    const scatter = new Array<number>(rows * (F + k));
    for (let row = 0; row < rows; row++) {
      const source = row % g;
      const idx = known[source];
      for (let i = 0; i < k; i++) latents.set(tokens.subarray((source * n + idx[i]) * C, (source * n + idx[i] + 1) * C), (row * k + i) * C);
      pos.set(tables.encoderPos.subarray(0, F * We), row * (F + k) * We);
      for (let i = 0; i < k; i++) pos.set(tables.encoderPos.subarray((F + idx[i]) * We, (F + idx[i] + 1) * We), (row * (F + k) + F + i) * We);
      for (let i = 0; i < F; i++) scatter[row * (F + k) + i] = i;
      for (let i = 0; i < k; i++) scatter[row * (F + k) + F + i] = F + idx[i];
    }

    const encoded = await graphs.run(
      'mar_encoder',
      { latents: float32([rows, k, C], latents), pos_embed: float32([rows, F + k, We], pos) },
      { signal, keepOnDevice: ['x_enc', 'llm_in'] },
    );
    const xEnc = encoded.x_enc;
    let llmOut: DeviceTensor | undefined;
    let z: { data: Float32Array };
    try {
      llmOut = await runBlock(graphs, prefix, encoded.llm_in, k + F, signal);
      const decoded = await graphs.run(
        'mar_decoder',
        {
          x_enc: xEnc,
          llm_out: llmOut,
          scatter_idx: int64([rows, F + k], scatter),
          fill: float32([rows, F + n, W], fill),
          decoder_pos: float32([1, F + n, W], tables.decoderPos),
          diffusion_pos: float32([1, n, W], tables.diffusionPos),
        },
        { signal },
      );
      z = await takeFloat32(decoded.z);
    } finally {
      xEnc.dispose();
      encoded.llm_in.dispose();
      llmOut?.dispose();
    }

    // Positions predicted now, per conditional row, in raster order (torch gathers with nonzero()).
    const predicted = orders.map((order, row) => {
      const positions = Array.from(order.subarray(step.maskedAfter, maskedCount));
      positions.sort((a, b) => a - b);
      return { row, positions };
    });
    const count = step.predicted;
    const m = g * count;
    if (count > 0) {
      const conditions = new Float32Array((unconditional ? 2 * m : m) * W);
      for (const half of unconditional ? [0, 1] : [0]) {
        for (const { row, positions } of predicted) {
          const zRow = half * g + row;
          positions.forEach((p, i) => conditions.set(z.data.subarray((zRow * n + p) * W, (zRow * n + p + 1) * W), (half * m + row * count + i) * W));
        }
      }
      const guidance =
        options.guidanceSchedule === 'linear' ? f(f(f(f(options.guidance - 1) * f(regenerated - step.maskLength)) / regenerated) + 1) : options.guidance;
      const fusedGraph = unconditional ? 'diffusion_sampler' : 'diffusion_sampler_plain';
      // The fused graph bakes the converter's respaced tables; other step counts run per step.
      const fused = graphs.has(fusedGraph) && options.diffusion.timesteps.length === config.diffusion.samplingSteps;
      const sampled = fused
        ? await sampleTokensFused({
            graphs,
            graph: fusedGraph,
            tokens: m,
            channels: C,
            conditions,
            conditionRows: unconditional ? 2 * m : m,
            width: W,
            steps: options.diffusion.timesteps.length,
            guidance,
            temperature: options.temperature,
            iteration: step.step,
            noise: (size, purpose) => options.random.normal(size, purpose),
            signal,
          })
        : await sampleTokens({
            tables: options.diffusion,
            tokens: m,
            channels: C,
            unconditional,
            guidance,
            temperature: options.temperature,
            iteration: step.step,
            noise: (size, purpose) => options.random.normal(size, purpose),
            signal,
            net: async (x, netRows, timestep) => {
              const out = await graphs.run(
                'diffusion_head',
                {
                  x: float32([netRows, C], x),
                  t: float32([netRows], new Float32Array(netRows).fill(timestep)),
                  c: float32([netRows, W], conditions),
                },
                { signal },
              );
              return (await takeFloat32(out.out)).data;
            },
          });
      for (const { row, positions } of predicted) {
        positions.forEach((p, i) => {
          tokens.set(sampled.subarray((row * count + i) * C, (row * count + i + 1) * C), (row * n + p) * C);
          masked[row][p] = 0;
        });
      }
    }
    maskedCount = step.maskedAfter;
    await options.onStepFinish?.(info, tokens);
  }
  return tokens;
}

/** One LLM pass over the image block against the fixed prefix cache, which it leaves as it is. */
async function runBlock(graphs: Graphs, prefix: Prefix, embeds: Feed, length: number, signal?: AbortSignal): Promise<DeviceTensor> {
  return runLlmStep(graphs, prefix.cache, embeds, length, { hidden: true, keepHidden: true, signal });
}

function repeatRows(row: Float32Array, rows: number): Float32Array {
  const out = new Float32Array(row.length * rows);
  for (let r = 0; r < rows; r++) out.set(row, r * row.length);
  return out;
}
