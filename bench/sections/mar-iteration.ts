import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDiffusionHeadGraph } from '../../src/families/unipic1/convert/graphs/diffusion/diffusion-head-graph.js';
import { buildFusedSamplerGraph } from '../../src/families/unipic1/convert/graphs/diffusion/fused-sampler-graph.js';
import { buildLlmGraph } from '../../src/convert/graphs/llm/llm-graph.js';
import { buildMarDecoderGraph } from '../../src/families/unipic1/convert/graphs/mar/mar-decoder-graph.js';
import { buildMarEncoderGraph } from '../../src/families/unipic1/convert/graphs/mar/mar-encoder-graph.js';
import { UNIPIC_1_5B, toModelConfig, type CheckpointConfig } from '../../src/families/unipic1/convert/checkpoint-config.js';
import { respacedCosineTables } from '../../src/families/unipic1/diffusion/schedule.js';
import { prepareGraphFolder } from '../lib/graph-folder.js';
import { marIterationState, writeOracleInputs } from '../lib/mar-iteration-inputs.js';
import { runOurIteration, type IterationResult, type IterationTimings } from '../lib/mar-iteration-ours.js';
import { NodeSessions } from '../lib/node-sessions.js';
import { float32Bytes, writeSafetensorsFile } from '../lib/safetensors-file.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { formatMs, formatRatio, median } from '../lib/stats.js';
import { SyntheticWeights } from '../lib/synthetic-weights.js';
import { formatTable } from '../lib/table.js';
import { withAccuracyLevel } from '../lib/onnx-patch.js';
import type { GraphContext } from '../../src/convert/graphs/weights.js';
import { TorchOracle } from '../lib/torch-oracle.js';

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
  // One block per stack: a full-depth iteration takes minutes on two cores. Each part's time is
  // taken as linear in its block count; the parts' fixed layers (connectors, the head's time and
  // condition embeddings and final layer) make the full-depth extrapolation an upper bound.
  const depths = { mar: 1, llm: 1, head: 1 };
  const full = { mar: UNIPIC_1_5B.mar.encoder_depth, llm: UNIPIC_1_5B.llm.num_hidden_layers, head: UNIPIC_1_5B.diffloss.depth };
  const structure: CheckpointConfig = {
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
      { file: 'mar_encoder.fused.onnx', dtype: 'fp32', build: (ctx) => buildMarEncoderGraph(ctx, config, { attention: 'fused' }) },
      { file: 'llm.onnx', dtype: 'fp32', build: (ctx) => buildLlmGraph(ctx, config) },
      { file: 'mar_decoder.fused.onnx', dtype: 'fp32', build: (ctx) => buildMarDecoderGraph(ctx, config, { attention: 'fused' }) },
      { file: 'diffusion_head.onnx', dtype: 'fp32', build: (ctx) => buildDiffusionHeadGraph(ctx, config) },
      { file: 'diffusion_sampler.onnx', dtype: 'fp32', build: (ctx) => buildFusedSamplerGraph(ctx, config, { guided: true }).toBytes() },
      // The fused sampler as it was before the hoisting (cond_embed and the time embedding per row
      // and step inside the loop): what the hoisting buys.
      { file: 'diffusion_sampler.in-loop.onnx', dtype: 'fp32', build: (ctx) => buildFusedSamplerGraph(ctx, config, { guided: true, hoist: false }).toBytes() },
      // q8: int8 weights per channel, activations quantized to 8 bits at run time (VNNI GEMM).
      { file: 'mar_encoder.q8.onnx', dtype: 'q8', build: (ctx) => buildMarEncoderGraph(ctx, config, { attention: 'fused' }) },
      { file: 'mar_decoder.q8.onnx', dtype: 'q8', build: (ctx) => buildMarDecoderGraph(ctx, config, { attention: 'fused' }) },
      { file: 'diffusion_head.q8.onnx', dtype: 'q8', build: (ctx) => buildDiffusionHeadGraph(ctx, config) },
      { file: 'diffusion_sampler.q8.onnx', dtype: 'q8', build: (ctx) => buildFusedSamplerGraph(ctx, config, { guided: true }).toBytes() },
      { file: 'llm.q8.onnx', dtype: 'q8', build: (ctx) => buildLlmGraph(ctx, config) },
      // q4 with accuracy level 4 (int8 activations on CPU): what a ≤ 4 GB build would run.
      {
        file: 'mar_encoder.q4.onnx',
        dtype: 'q4',
        build: (ctx) =>
          withAccuracyLevel(
            built(ctx, () => buildMarEncoderGraph(ctx, config, { attention: 'fused' })),
            4,
          ),
      },
      {
        file: 'llm.q4.onnx',
        dtype: 'q4',
        build: (ctx) =>
          withAccuracyLevel(
            built(ctx, () => buildLlmGraph(ctx, config)),
            4,
          ),
      },
      {
        file: 'mar_decoder.q4.onnx',
        dtype: 'q4',
        build: (ctx) =>
          withAccuracyLevel(
            built(ctx, () => buildMarDecoderGraph(ctx, config, { attention: 'fused' })),
            4,
          ),
      },
      { file: 'diffusion_sampler.q4.onnx', dtype: 'q4', build: (ctx) => withAccuracyLevel(buildFusedSamplerGraph(ctx, config, { guided: true }).toBytes(), 4) },
    ],
    context.log,
  );
  const diffusion = respacedCosineTables({ numTimesteps: config.diffusion.numTimesteps, steps: config.diffusion.samplingSteps, maxBeta: config.diffusion.maxBeta });
  const state = marIterationState(config, weights, ITERATION, ITERATIONS);
  // The heaviest section: two timed runs per system (plus a warm-up) keep it within budget.
  const repeats = Math.min(context.repeats, 2);

  const oracle = await startOracle(context, structure, weights, state, config, diffusion.timesteps.length);
  const torch: OracleResult = oracle.oracle ? { version: oracle.oracle.version, threads: oracle.oracle.threads } : { skipped: oracle.skipped };
  const torchRuns: IterationTimings[] = [];

  const variants = VARIANTS;
  const ours: { id: string; timings: IterationTimings[]; last?: IterationResult }[] = [];
  const opened: NodeSessions[] = [];
  try {
    for (const variant of variants) {
      const sessions = await NodeSessions.open(directory);
      opened.push(sessions);
      for (const [graph, file] of Object.entries({ ...FP32_FILES, ...variant.files })) sessions.files.set(graph, file);
      context.log(`mar: warm-up ${variant.id}`);
      await runOurIteration(sessions, config, state, diffusion, variant.fusedSampler);
      ours.push({ id: variant.id, timings: [] });
    }
    if (oracle.oracle) {
      context.log('mar: warm-up PyTorch');
      await oracle.oracle.run();
    }
    // PyTorch and our variants alternate run by run: load swings hit every system alike.
    for (let i = 0; i < repeats; i++) {
      if (oracle.oracle) {
        context.log(`mar: PyTorch, run ${i + 1}/${repeats}`);
        torchRuns.push(await oracle.oracle.run());
      }
      for (const [index, variant] of variants.entries()) {
        context.log(`mar: ${variant.id}, run ${i + 1}/${repeats}`);
        const result = await runOurIteration(opened[index], config, state, diffusion, variant.fusedSampler);
        ours[index].timings.push(result.timings);
        ours[index].last = result;
      }
    }
  } finally {
    for (const sessions of opened) await sessions.close();
    await oracle.oracle?.close();
  }
  if (oracle.oracle) {
    const read = (name: string) => new Float32Array(new Uint8Array(readFileSync(join(oracle.work, `torch-${name}.f32`))).buffer);
    torch.z = read('z');
    torch.tokens = read('tokens');
    torch.timings = torchRuns.length ? medianOfTimings(torchRuns) : undefined;
  }

  const medianOf = medianOfTimings;
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
  // What each variant's arithmetic costs: its decoder output z and sampled tokens against PyTorch's.
  const parity = ours.map((o) => ({
    id: o.id,
    z: torch.z && o.last ? normalizedError(o.last.z, torch.z) : undefined,
    tokens: torch.tokens && o.last ? normalizedError(o.last.tokens, torch.tokens) : undefined,
  }));
  const parityTable = formatTable(
    ['system', 'z vs PyTorch', 'sampled tokens vs PyTorch'],
    parity.map((p) => [p.id, p.z?.toExponential(1) ?? '–', p.tokens?.toExponential(1) ?? '–']),
  );
  const ratio = (s: { timings: IterationTimings } | undefined) => (s && baseline ? formatRatio(s.timings.total / baseline.total) : '–');
  const ourSystems = systems.filter((s) => !s.id.startsWith('PyTorch'));
  const fastest = (list: typeof systems) => list.reduce((a, b) => (b.timings.total < a.timings.total ? b : a));
  // The fp32 rows are the like-for-like comparison; q8 and q4 change the products' precision.
  const bestFp32 = fastest(ourSystems.filter((s) => !/\bq[48]\b/.test(s.id)));
  const best = fastest(ourSystems);
  const fullRatio = (s: { timings: IterationTimings }) => (baseline ? formatRatio(extrapolate(s.timings) / extrapolate(baseline)) : '–');
  const summary = baseline
    ? `MAR iteration vs PyTorch eager (target ≤ 0.70×): SDK fp32 ${ratio(ourSystems[0])}, best fp32 ${ratio(bestFp32)} (${bestFp32.id}), best ${ratio(best)} (${best.id}; ${fullRatio(best)} at full depth, extrapolated)`
    : `MAR iteration: PyTorch oracle not run (${torch.skipped}); ours ${formatMs(best.timings.total)} at benchmark depth, ${formatMs(extrapolate(best.timings))} extrapolated`;
  return {
    title: `MAR iteration at 512 px with guidance (iteration ${ITERATION}/${ITERATIONS}: ${state.plan.known} known, ${state.plan.predicted} predicted): fp32, q8 and q4 products`,
    table: `${table}\n\n${parityTable}`,
    notes: [
      `depths: MAR ${depths.mar}+${depths.mar} of ${full.mar}+${full.mar} blocks, LLM ${depths.llm} of ${full.llm} layers, head ${depths.head} of ${full.head} blocks; widths full; text prefix ${state.prefixLength} tokens (uncond row right-padded)`,
      `median of ${repeats} runs after a warm-up each; PyTorch (its own process, kept alive) and our variants alternate run by run; torch threads = ORT default intra-op threads = ${torch.threads ?? 'n/a'}`,
      torch.z === undefined
        ? `PyTorch oracle: ${torch.skipped}`
        : 'errors are max |Δ| / max |expected| against PyTorch fed the same weights, inputs and noise; fp32 rows compute the same thing, q8 rows carry 8-bit products, q4 rows 4-bit weights with int8 activations',
      `full depth: each part scaled by its block ratio, for PyTorch too (${baseline ? formatMs(extrapolate(baseline)) : '–'}); the hoisted fused sampler saves a fixed cost per step (time and condition embeddings), so its share shrinks at full depth`,
    ],
    summary,
    data: { depths, systems, parity, torch: { version: torch.version, threads: torch.threads, skipped: torch.skipped } },
  };
}

const FP32_FILES = {
  mar_encoder: 'mar_encoder.fused.onnx',
  mar_decoder: 'mar_decoder.fused.onnx',
  llm: 'llm.onnx',
  diffusion_head: 'diffusion_head.onnx',
  diffusion_sampler: 'diffusion_sampler.onnx',
};
const Q8_MAR = { mar_encoder: 'mar_encoder.q8.onnx', mar_decoder: 'mar_decoder.q8.onnx' };

/** Each row: the graph files it runs (fp32 unless named) and whether the head is the fused sampler. */
const VARIANTS: readonly { id: string; fusedSampler: boolean; files: Partial<Record<keyof typeof FP32_FILES, string>> }[] = [
  { id: 'unipic fp32 (SDK default: per-step head)', fusedSampler: false, files: {} },
  { id: 'unipic fp32 + fused sampler, head as before', fusedSampler: true, files: { diffusion_sampler: 'diffusion_sampler.in-loop.onnx' } },
  { id: 'unipic fp32 + fused sampler, hoisted', fusedSampler: true, files: {} },
  { id: 'unipic q8 MAR + head, per-step head, LLM fp32', fusedSampler: false, files: { ...Q8_MAR, diffusion_head: 'diffusion_head.q8.onnx' } },
  { id: 'unipic q8 MAR + fused sampler, LLM fp32', fusedSampler: true, files: { ...Q8_MAR, diffusion_sampler: 'diffusion_sampler.q8.onnx' } },
  {
    id: 'unipic q8 everywhere (LLM block too), fused',
    fusedSampler: true,
    files: { ...Q8_MAR, diffusion_sampler: 'diffusion_sampler.q8.onnx', llm: 'llm.q8.onnx' },
  },
  {
    id: 'unipic q4 (accuracy 4) + fused sampler',
    fusedSampler: true,
    files: { mar_encoder: 'mar_encoder.q4.onnx', mar_decoder: 'mar_decoder.q4.onnx', llm: 'llm.q4.onnx', diffusion_sampler: 'diffusion_sampler.q4.onnx' },
  },
];

interface OracleResult {
  timings?: IterationTimings;
  z?: Float32Array;
  tokens?: Float32Array;
  version?: string;
  threads?: number;
  skipped?: string;
}

function medianOfTimings(timings: IterationTimings[]): IterationTimings {
  return Object.fromEntries([...PARTS, 'total'].map((part) => [part, median(timings.map((t) => t[part as keyof IterationTimings]))])) as unknown as IterationTimings;
}

/** Writes the oracle's weights and inputs and starts it (or says why not). */
async function startOracle(
  context: BenchContext,
  structure: CheckpointConfig,
  weights: SyntheticWeights,
  state: ReturnType<typeof marIterationState>,
  config: ReturnType<typeof toModelConfig>,
  samplingSteps: number,
): Promise<{ oracle?: TorchOracle; skipped?: string; work: string }> {
  const work = join(context.cacheDir, 'mar-iteration-oracle');
  if (!context.python) return { skipped: 'Python with torch not found: run tools/reference/setup.sh, or pass --python', work };
  mkdirSync(work, { recursive: true });
  context.log('mar: writing weights and inputs for the PyTorch oracle');
  const keys = weights.names.filter((key) => /^(llm\.model\.layers\.|llm\.model\.norm\.|mar\.|proj_in\.|proj_out\.)/.test(key));
  writeSafetensorsFile(
    join(work, 'weights.safetensors'),
    keys.map((name) => ({ name, dtype: 'float32', shape: [...weights.shape(name)], bytes: () => float32Bytes(weights.float32(name)) })),
  );
  writeOracleInputs(join(work, 'inputs.safetensors'), state, config, samplingSteps);
  writeFileSync(join(work, 'structure.json'), JSON.stringify(structure));
  // ORT's default intra-op pool has one thread per physical core; torch gets the same count.
  writeFileSync(join(work, 'settings.json'), JSON.stringify({ threads: defaultThreads(), guidance: state.guidance, temperature: state.temperature }));
  context.log('mar: starting the PyTorch oracle');
  try {
    const oracle = await TorchOracle.start(context.python, join(import.meta.dirname, '..', 'python', 'mar_iteration.py'), work);
    return { oracle, work };
  } catch (error) {
    return { skipped: error instanceof Error ? error.message : String(error), work };
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

/** A builder's model bytes after `fill` ran on it (for patching before the file is written). */
function built(ctx: GraphContext, fill: () => void): Uint8Array {
  fill();
  return ctx.builder.toBytes();
}
