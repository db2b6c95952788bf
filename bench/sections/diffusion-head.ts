import { join } from 'node:path';
import { buildDiffusionHeadGraph } from '../../src/families/unipic1/convert/graphs/diffusion/diffusion-head-graph.js';
import { buildFusedSamplerGraph } from '../../src/families/unipic1/convert/graphs/diffusion/fused-sampler-graph.js';
import { UNIPIC_1_5B, toModelConfig } from '../../src/families/unipic1/convert/checkpoint-config.js';
import { sampleTokens } from '../../src/families/unipic1/diffusion/sampler.js';
import { respacedCosineTables } from '../../src/families/unipic1/diffusion/schedule.js';
import type { NoisePurpose } from '../../src/core/random/random-source.js';
import { float32, takeFloat32, tensor } from '../../src/core/tensor.js';
import type { UniPic1GraphName as GraphName } from '../../src/families/unipic1/manifest.js';
import { fillUniform, hashString } from '../lib/fast-random.js';
import { prepareGraphFolder } from '../lib/graph-folder.js';
import { NodeSessions } from '../lib/node-sessions.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { formatMs, formatRatio, median } from '../lib/stats.js';
import { SyntheticWeights } from '../lib/synthetic-weights.js';
import { formatTable } from '../lib/table.js';

const FUSED = 'diffusion_sampler' as GraphName;
const HOISTED = 'diffusion_sampler_hoisted' as GraphName;
const Q8 = 'diffusion_sampler_q8' as GraphName;

/**
 * The diffusion head's 100-step sampler for a batch of tokens with guidance, full head shapes
 * (width 1536, 12 blocks, condition 1280): the SDK's per-step loop (one `diffusion_head` run per
 * step, sampler arithmetic in JS) vs the fused `diffusion_sampler` graph (the loop inside one ONNX
 * Loop) in one run and in 4 blocks of 25 steps, same weights, same noise.
 */
export async function diffusionHeadSection(context: BenchContext): Promise<SectionResult> {
  const structure = UNIPIC_1_5B;
  const config = toModelConfig(structure);
  const weights = new SyntheticWeights(structure);
  const directory = await prepareGraphFolder(
    join(context.cacheDir, 'diffusion-head'),
    { diffloss: structure.diffloss, mar: structure.mar.decoder_embed_dim },
    weights,
    [
      { file: 'diffusion_head.onnx', dtype: 'fp32', build: (ctx) => buildDiffusionHeadGraph(ctx, config) },
      // The loop as first built (time and condition embeddings per row inside the loop): the
      // per-step sampler's exact peer, so per-step / fused is the host overhead alone.
      { file: 'diffusion_sampler.onnx', dtype: 'fp32', build: (ctx) => buildFusedSamplerGraph(ctx, config, { guided: true, hoist: false }).toBytes() },
      { file: 'diffusion_sampler_hoisted.onnx', dtype: 'fp32', build: (ctx) => buildFusedSamplerGraph(ctx, config, { guided: true }).toBytes() },
      { file: 'diffusion_sampler_q8.onnx', dtype: 'q8', build: (ctx) => buildFusedSamplerGraph(ctx, config, { guided: true }).toBytes() },
    ],
    context.log,
  );
  const tables = respacedCosineTables({ numTimesteps: config.diffusion.numTimesteps, steps: config.diffusion.samplingSteps, maxBeta: config.diffusion.maxBeta });
  const steps = tables.timesteps.length;
  const channels = config.mar.tokenDim;
  const width = config.mar.decoderWidth;
  // One token (two rows with guidance): the smallest batch, where per-run overhead weighs most.
  const batches = [1];
  // A 100-step sampler at full depth is the slow part: two timed runs of each form.
  const repeats = Math.min(context.repeats, 2);
  const guidance = 3;
  const temperature = 1;
  const noise = (count: number, purpose: NoisePurpose) => fillUniform(new Float32Array(count), hashString(JSON.stringify(purpose)), 1);

  const sessions = await NodeSessions.open(directory);
  const rows: { tokens: number; perStepMs: number; fusedMs: number; blocksMs: number; hoistedMs: number; q8Ms: number; difference: number }[] = [];
  try {
    for (const tokens of batches) {
      context.log(`head: ${tokens} tokens × 2 (guidance), ${steps} steps`);
      const conditions = fillUniform(new Float32Array(2 * tokens * width), 77 + tokens, 1);
      const perStep = () =>
        sampleTokens({
          tables,
          tokens,
          channels,
          unconditional: true,
          guidance,
          temperature,
          iteration: 0,
          noise,
          net: async (x, netRows, timestep) => {
            const out = await sessions.graphs.run('diffusion_head', {
              x: float32([netRows, channels], x),
              t: float32([netRows], new Float32Array(netRows).fill(timestep)),
              c: float32([netRows, width], conditions),
            });
            return (await takeFloat32(out.out)).data;
          },
        });
      const stepNoise = (first: number, count: number) => {
        const table = new Float32Array(count * tokens * channels);
        for (let s = 0; s < count; s++) {
          const k = first - s;
          if (k > 0) table.set(noise(tokens * channels, { kind: 'diffusion-step', iteration: 0, step: k }), s * tokens * channels);
        }
        return table;
      };
      const fused = async (blocks: number, limit = steps, graph = FUSED) => {
        let x = noise(tokens * channels, { kind: 'diffusion-start', iteration: 0 });
        const per = Math.min(limit, steps / blocks);
        for (let block = 0; block < Math.min(blocks, limit / per); block++) {
          const first = steps - 1 - block * per;
          const out = await sessions.graphs.run(graph, {
            x: float32([tokens, channels], x),
            c: float32([2 * tokens, width], conditions),
            noise: float32([per, tokens, channels], stepNoise(first, per)),
            first_step: tensor('int64', [], BigInt64Array.from([BigInt(first)])),
            guidance: tensor('float32', [], Float32Array.from([guidance])),
            temperature: tensor('float32', [], Float32Array.from([temperature])),
          });
          x = (await takeFloat32(out.x_out)).data;
        }
        return x;
      };
      // Warm-up: session creation and first-run allocations, a few steps of each form.
      await sessions.graphs.run('diffusion_head', {
        x: float32([2 * tokens, channels], new Float32Array(2 * tokens * channels)),
        t: float32([2 * tokens], new Float32Array(2 * tokens)),
        c: float32([2 * tokens, width], conditions),
      });
      for (const graph of [FUSED, HOISTED, Q8]) await fused(1, 2, graph);
      // The forms alternate so that load changes on a shared machine hit them alike.
      const times = { perStep: [] as number[], fused: [] as number[], blocks: [] as number[], hoisted: [] as number[], q8: [] as number[] };
      let reference: Float32Array = new Float32Array(0);
      let fusedResult: Float32Array = new Float32Array(0);
      for (let i = 0; i < repeats; i++) {
        for (const key of ['perStep', 'fused', 'blocks', 'hoisted', 'q8'] as const) {
          const started = performance.now();
          const graph = key === 'hoisted' ? HOISTED : key === 'q8' ? Q8 : FUSED;
          const result = key === 'perStep' ? await perStep() : await fused(key === 'blocks' ? 4 : 1, steps, graph);
          times[key].push(performance.now() - started);
          if (key === 'perStep') reference = result;
          if (key === 'fused') fusedResult = result;
        }
      }
      let difference = 0;
      let scale = 0;
      for (let i = 0; i < reference.length; i++) {
        difference = Math.max(difference, Math.abs(reference[i] - fusedResult[i]));
        scale = Math.max(scale, Math.abs(reference[i]));
      }
      rows.push({
        tokens,
        perStepMs: median(times.perStep),
        fusedMs: median(times.fused),
        blocksMs: median(times.blocks),
        hoistedMs: median(times.hoisted),
        q8Ms: median(times.q8),
        difference: difference / scale,
      });
    }
  } finally {
    await sessions.close();
  }
  const table = formatTable(
    [
      'tokens (× 2 rows)',
      'per-step runs (SDK today)',
      'fused, 1 run',
      'fused, 4 × 25 steps',
      'per-step / fused',
      'per-step overhead per step',
      'max |Δ| / max |x|',
      'fused, hoisted',
      'fused q8, hoisted',
    ],
    rows.map((r) => [
      String(r.tokens),
      formatMs(r.perStepMs),
      formatMs(r.fusedMs),
      formatMs(r.blocksMs),
      formatRatio(r.perStepMs / r.fusedMs),
      formatMs((r.perStepMs - r.fusedMs) / steps),
      r.difference.toExponential(1),
      `${formatMs(r.hoistedMs)} (${formatRatio(r.hoistedMs / r.fusedMs)})`,
      `${formatMs(r.q8Ms)} (${formatRatio(r.q8Ms / r.fusedMs)})`,
    ]),
  );
  const largest = rows[rows.length - 1];
  return {
    title: 'Diffusion head: 100-step sampler, per-step runs vs fused loop (full head shapes, fp32)',
    table,
    notes: [
      'fused = the loop with the head as the per-step graph computes it; hoisted = cond_embed before the loop and the time embedding on one row per step (the converter default); q8 = hoisted with int8 products; ratios in brackets against fused',
      `median of ${repeats} runs each, the forms alternated; guidance 3 (the net sees 2 rows per token); same weights and noise, results compared in the last column`,
      'per-step = src/core/diffusion/sampler.ts calling the diffusion_head graph through the node-ort adapter and CheckedGraphs, as mar-loop does',
    ],
    summary: `diffusion head: fused loop ${formatRatio(largest.perStepMs / largest.fusedMs)} the per-step speed at ${largest.tokens} token(s); host overhead ≈ ${formatMs((largest.perStepMs - largest.fusedMs) / steps)} per step of ${formatMs(largest.fusedMs / steps)}`,
    data: { rows },
  };
}
