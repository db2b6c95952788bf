import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDiffusionHeadGraph } from '../../src/convert/graphs/diffusion/diffusion-head-graph.js';
import { buildFusedSamplerGraph } from '../../src/convert/graphs/diffusion/fused-sampler-graph.js';
import { buildLlmGraph } from '../../src/convert/graphs/llm/llm-graph.js';
import { buildMarDecoderGraph } from '../../src/convert/graphs/mar/mar-decoder-graph.js';
import { buildMarEncoderGraph } from '../../src/convert/graphs/mar/mar-encoder-graph.js';
import { UNIPIC_1_5B, toModelConfig, type Structure } from '../../src/convert/structure.js';
import { respacedCosineTables } from '../../src/core/diffusion/schedule.js';
import { prepareGraphFolder } from '../lib/graph-folder.js';
import { marIterationState, writeOracleInputs } from '../lib/mar-iteration-inputs.js';
import { runOurIteration, type IterationResult, type IterationTimings } from '../lib/mar-iteration-ours.js';
import { NodeSessions } from '../lib/node-sessions.js';
import { float32Bytes, writeSafetensorsFile } from '../lib/safetensors-file.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { formatMs, formatRatio, median } from '../lib/stats.js';
import { SyntheticWeights } from '../lib/synthetic-weights.js';
import { formatTable } from '../lib/table.js';

const PARTS = ['encoder', 'llm', 'decoder', 'head'] as const;
const ITERATION = 16;
const ITERATIONS = 32;

/**
 * One MAR iteration at 512 px with guidance (2 rows), iteration 16 of 32 (300 known tokens, 37
 * predicted): MAR encoder → LLM block over the prefix cache → MAR decoder → 100-step diffusion
 * sampler. Full widths (MAR-H 1280, Qwen2.5-1.5B 1536, head 1536) with fewer blocks, because a
 * full-depth iteration takes minutes on two cores; each part scales linearly in its block count, and
 * the full-depth column extrapolates each part by full ÷ benchmark depth. Ours (the SDK's graphs and
 * loop code) vs the PyTorch oracle of tools/reference in eager mode, same weights and inputs.
 */
export async function marIterationSection(context: BenchContext): Promise<SectionResult> {
  const depths = context.quick ? { mar: 1, llm: 1, head: 1 } : { mar: 2, llm: 2, head: 2 };
  const full = { mar: UNIPIC_1_5B.mar.encoder_depth, llm: UNIPIC_1_5B.llm.num_hidden_layers, head: UNIPIC_1_5B.diffloss.depth };
  const structure: Structure = {
    ...UNIPIC_1_5B,
    llm: { ...UNIPIC_1_5B.llm, num_hidden_layers: depths.llm },
    mar: { ...UNIPIC_1_5B.mar, encoder_depth: depths.mar, decoder_depth: depths.mar },
    diffloss: { ...UNIPIC_1_5B.diffloss, depth: depths.head },
  };
  const config = toModelConfig(structure);
  const weights = new SyntheticWeights(structure);
  const directory = await prepareGraphFolder(
    join(context.cacheDir, `mar-iteration-${depths.mar}-${depths.llm}-${depths.head}`),
    structure,
    weights,
    [
      { file: 'mar_encoder.onnx', dtype: 'fp32', build: (ctx) => buildMarEncoderGraph(ctx, config) },
      { file: 'mar_encoder.fused.onnx', dtype: 'fp32', build: (ctx) => buildMarEncoderGraph(ctx, config, { attention: 'fused' }) },
      { file: 'llm.onnx', dtype: 'fp32', build: (ctx) => buildLlmGraph(ctx, config) },
      { file: 'mar_decoder.onnx', dtype: 'fp32', build: (ctx) => buildMarDecoderGraph(ctx, config) },
      { file: 'mar_decoder.fused.onnx', dtype: 'fp32', build: (ctx) => buildMarDecoderGraph(ctx, config, { attention: 'fused' }) },
      { file: 'diffusion_head.onnx', dtype: 'fp32', build: (ctx) => buildDiffusionHeadGraph(ctx, config) },
      { file: 'diffusion_sampler.onnx', dtype: 'fp32', build: (ctx) => buildFusedSamplerGraph(ctx, config, { guided: true }).toBytes() },
    ],
    context.log,
  );
  const diffusion = respacedCosineTables({ numTimesteps: config.diffusion.numTimesteps, steps: config.diffusion.samplingSteps, maxBeta: config.diffusion.maxBeta });
  const state = marIterationState(config, weights, ITERATION, ITERATIONS);
  const repeats = context.repeats;

  // PyTorch first (a separate process; our sessions are not open yet, so it has the memory).
  const torch = runOracle(context, structure, weights, state, config, diffusion.timesteps.length, repeats);

  const variants = [
    { id: 'unipic (SDK today)', fusedAttention: false, fusedSampler: false },
    { id: 'unipic + fused MHA + fused sampler', fusedAttention: true, fusedSampler: true },
  ];
  const ours: { id: string; timings: IterationTimings[]; last?: IterationResult }[] = [];
  const opened: NodeSessions[] = [];
  try {
    for (const variant of variants) {
      const sessions = await NodeSessions.open(directory);
      opened.push(sessions);
      if (variant.fusedAttention) {
        sessions.files.set('mar_encoder', 'mar_encoder.fused.onnx');
        sessions.files.set('mar_decoder', 'mar_decoder.fused.onnx');
      }
      context.log(`mar: warm-up ${variant.id}`);
      await runOurIteration(sessions, config, state, diffusion, variant.fusedSampler);
      ours.push({ id: variant.id, timings: [] });
    }
    for (let i = 0; i < repeats; i++) {
      for (const [index, variant] of variants.entries()) {
        context.log(`mar: ${variant.id}, run ${i + 1}/${repeats}`);
        const result = await runOurIteration(opened[index], config, state, diffusion, variant.fusedSampler);
        ours[index].timings.push(result.timings);
        ours[index].last = result;
      }
    }
  } finally {
    for (const sessions of opened) await sessions.close();
  }

  const medianOf = (timings: IterationTimings[]) =>
    Object.fromEntries([...PARTS, 'total'].map((part) => [part, median(timings.map((t) => t[part as keyof IterationTimings]))])) as unknown as IterationTimings;
  const scale = { encoder: full.mar / depths.mar, llm: full.llm / depths.llm, decoder: full.mar / depths.mar, head: full.head / depths.head };
  const extrapolate = (t: IterationTimings) => PARTS.reduce((sum, part) => sum + t[part] * scale[part], 0);
  const systems: { id: string; timings: IterationTimings }[] = [];
  if (torch.timings) systems.push({ id: `PyTorch ${torch.version} eager (tools/reference)`, timings: torch.timings });
  for (const o of ours) systems.push({ id: o.id, timings: medianOf(o.timings) });
  const baseline = torch.timings;
  const table = formatTable(
    ['system', 'MAR encoder', 'LLM block', 'MAR decoder', '100-step head', 'iteration', 'vs PyTorch', 'full depth (extrapolated)'],
    systems.map((s) => [
      s.id,
      ...PARTS.map((part) => formatMs(s.timings[part])),
      formatMs(s.timings.total),
      baseline ? formatRatio(s.timings.total / baseline.total) : '–',
      formatMs(extrapolate(s.timings)),
    ]),
  );
  const parity = torch.z && ours[0].last ? normalizedError(ours[0].last.z, torch.z) : undefined;
  const tokenParity = torch.tokens && ours[0].last ? normalizedError(ours[0].last.tokens, torch.tokens) : undefined;
  const best = systems.filter((s) => !s.id.startsWith('PyTorch')).reduce((a, b) => (b.timings.total < a.timings.total ? b : a));
  const summary = baseline
    ? `MAR iteration vs PyTorch eager (target ≤ 0.70×): SDK today ${formatRatio(systems[1].timings.total / baseline.total)}, best ${formatRatio(best.timings.total / baseline.total)} (${best.id}); full-depth estimate ${formatMs(extrapolate(best.timings))} per iteration`
    : `MAR iteration: PyTorch oracle not run (${torch.skipped}); ours ${formatMs(best.timings.total)} at benchmark depth, ${formatMs(extrapolate(best.timings))} extrapolated`;
  return {
    title: `MAR iteration at 512 px with guidance (iteration ${ITERATION}/${ITERATIONS}: ${state.plan.known} known, ${state.plan.predicted} predicted), fp32`,
    table,
    notes: [
      `depths: MAR ${depths.mar}+${depths.mar} of ${full.mar}+${full.mar} blocks, LLM ${depths.llm} of ${full.llm} layers, head ${depths.head} of ${full.head} blocks; widths full; text prefix ${state.prefixLength} tokens (uncond row right-padded)`,
      `median of ${repeats} runs after a warm-up; our variants alternate; PyTorch ran in its own process just before (torch threads = ORT default threads = ${torch.threads ?? 'n/a'})`,
      parity === undefined ? `PyTorch oracle: ${torch.skipped}` : `same computation: decoder output z differs from PyTorch by ${parity.toExponential(1)} (max |Δ| / max |z|), sampled tokens by ${tokenParity?.toExponential(1)}`,
    ],
    summary,
    data: { depths, systems, parity, tokenParity, torch: { version: torch.version, threads: torch.threads, skipped: torch.skipped } },
  };
}

interface OracleResult {
  timings?: IterationTimings;
  z?: Float32Array;
  tokens?: Float32Array;
  version?: string;
  threads?: number;
  skipped?: string;
}

function runOracle(
  context: BenchContext,
  structure: Structure,
  weights: SyntheticWeights,
  state: ReturnType<typeof marIterationState>,
  config: ReturnType<typeof toModelConfig>,
  samplingSteps: number,
  repeats: number,
): OracleResult {
  if (!context.python) return { skipped: 'Python with torch not found: run tools/reference/setup.sh, or pass --python' };
  const work = join(context.cacheDir, 'mar-iteration-oracle');
  mkdirSync(work, { recursive: true });
  {
    context.log('mar: writing weights and inputs for the PyTorch oracle');
    const keys = weights.names.filter((key) => /^(llm\.model\.layers\.|llm\.model\.norm\.|mar\.|proj_in\.|proj_out\.)/.test(key));
    writeSafetensorsFile(join(work, 'weights.safetensors'), keys.map((name) => ({ name, dtype: 'float32', shape: [...weights.shape(name)], bytes: () => float32Bytes(weights.float32(name)) })));
    writeOracleInputs(join(work, 'inputs.safetensors'), state, config, samplingSteps);
    writeFileSync(join(work, 'structure.json'), JSON.stringify(structure));
    // ORT's default intra-op pool has one thread per physical core; torch gets the same count.
    writeFileSync(join(work, 'settings.json'), JSON.stringify({ repeats, threads: defaultThreads(), guidance: state.guidance, temperature: state.temperature }));
    context.log('mar: running the PyTorch oracle');
    const script = join(import.meta.dirname, '..', 'python', 'mar_iteration.py');
    const run = spawnSync(context.python!, [script, work], { encoding: 'utf8', timeout: 20 * 60 * 1000 });
    if (run.status !== 0) return { skipped: `the oracle failed: ${(run.stderr || run.error?.message || '').trim().split('\n').slice(-3).join(' ')}` };
    const result = JSON.parse(readFileSync(join(work, 'torch-result.json'), 'utf8')) as { torch: string; threads: number; medianMs: IterationTimings };
    const read = (name: string) => new Float32Array(new Uint8Array(readFileSync(join(work, `torch-${name}.f32`))).buffer);
    return { timings: result.medianMs, z: read('z'), tokens: read('tokens'), version: result.torch, threads: result.threads };
  }
}

function defaultThreads(): number {
  const cores = new Set<string>();
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    for (const block of info.split('\n\n')) {
      const physical = /physical id\s*:\s*(\d+)/.exec(block)?.[1];
      const core = /core id\s*:\s*(\d+)/.exec(block)?.[1];
      if (core !== undefined) cores.add(`${physical}:${core}`);
    }
  } catch {
    return 1;
  }
  return Math.max(1, cores.size);
}

function normalizedError(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < actual.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return worst / scale;
}
