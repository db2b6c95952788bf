import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UNIPIC_1_5B } from '../../src/families/unipic1/convert/checkpoint-config.js';
import { CAPABILITY_GRAPHS, type UniPic1GraphName as GraphName, type UniPic1Manifest as Manifest } from '../../src/families/unipic1/manifest.js';
import { MEMORY_STRUCTURE, prepareMemoryModel } from '../lib/memory-model.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { formatBytes, formatMs } from '../lib/stats.js';
import { formatTable } from '../lib/table.js';
import { graphWeightBytes } from '../lib/weight-bytes.js';
import { buildMarDecoderGraph } from '../../src/families/unipic1/convert/graphs/mar/mar-decoder-graph.js';
import { toModelConfig } from '../../src/families/unipic1/convert/checkpoint-config.js';
import { prepareGraphFolder } from '../lib/graph-folder.js';
import { SyntheticWeights } from '../lib/synthetic-weights.js';

/** One-block fp32 mar_decoder graphs, standard and fused attention (shared weights). */
async function prepareMarDecoderGraphs(context: BenchContext): Promise<string> {
  const config = toModelConfig(MEMORY_STRUCTURE);
  return prepareGraphFolder(
    join(context.cacheDir, 'mar-decoder-attention'),
    MEMORY_STRUCTURE.mar,
    new SyntheticWeights(MEMORY_STRUCTURE),
    [
      { file: 'mar_decoder.onnx', dtype: 'fp32', build: (ctx) => buildMarDecoderGraph(ctx, config) },
      { file: 'mar_decoder.fused.onnx', dtype: 'fp32', build: (ctx) => buildMarDecoderGraph(ctx, config, { attention: 'fused' }) },
    ],
    context.log,
  );
}

interface ProbeResult {
  baseline: number;
  afterLoad: number;
  peak: number;
  phases: { loadMs: number; taskMs: number; promptTokens?: number };
  iterations: number;
}

const TARGET_BYTES = 4 * 2 ** 30;

/**
 * Peak resident memory (the process's VmHWM: JS heap, ORT sessions, their CPU arenas and
 * everything else) of a 1024 px generation (two MAR iterations and a VAE decode of the full
 * latent grid) and of understanding a 1024 px image (VAE + MAR encoder over 4160 tokens, the LLM
 * prefill over ~4180 tokens, two new tokens), fp32 and q4, each in a fresh process. Measured on
 * full widths with one block per stack; the full-depth figure adds the weights (and, for
 * understanding, the prefix KV cache) of the left-out blocks.
 */
export async function memorySection(context: BenchContext): Promise<SectionResult> {
  context.log('memory: preparing the full-width, one-block model (cached after the first run)');
  const model = await prepareMemoryModel(context.cacheDir, context.log);
  const manifest = JSON.parse(readFileSync(join(model, 'unipic.json'), 'utf8')) as Manifest;
  const size = context.quick ? 512 : 1024;
  const rows: { task: string; dtype: 'fp32' | 'q4'; arena: boolean; probe: ProbeResult; missingBytes: number; fullPeak: number }[] = [];
  const checks = new Set<string>();
  const allCases = [
    ...(['generate', 'understand'] as const).flatMap((task) => (['fp32', 'q4'] as const).map((dtype) => ({ task, dtype, arena: true }))),
    // ORT keeps each session's arena at its peak after a run, so the peaks of the MAR decoder,
    // the VAE decoder... add up; without the arena each run's memory goes back when it ends.
    { task: 'generate' as const, dtype: 'q4' as const, arena: false },
  ];
  // UNIPIC_BENCH_MEMORY=generate:q4,understand:q4,generate:q4:off measures only those cases (and
  // skips the attention table): a partial run for a change that touches one path.
  const only = process.env.UNIPIC_BENCH_MEMORY?.split(',');
  const cases = only ? allCases.filter((c) => only.includes(`${c.task}:${c.dtype}${c.arena ? '' : ':off'}`)) : allCases;
  for (const { task, dtype, arena } of cases) {
    {
      context.log(`memory: ${task} ${size} px, ${dtype}${arena ? '' : ', arena off'}`);
      const probe = runProbe({ model, dtype, task, size, arena });
      const graphs = CAPABILITY_GRAPHS[task];
      const fullBytes = graphs.reduce((sum, graph) => sum + graphWeightBytes(UNIPIC_1_5B, graph, dtype), 0);
      const benchBytes = graphs.reduce((sum, graph) => sum + graphWeightBytes(MEMORY_STRUCTURE, graph, dtype), 0);
      let missingBytes = fullBytes - benchBytes;
      if (task === 'understand' && probe.phases.promptTokens) {
        // The image prefix cache stays alive through decoding: per layer 2 × KV heads × length × head dim floats.
        const llm = UNIPIC_1_5B.llm;
        const perLayer = 2 * llm.num_key_value_heads * probe.phases.promptTokens * (llm.hidden_size / llm.num_attention_heads) * 4;
        missingBytes += perLayer * (llm.num_hidden_layers - MEMORY_STRUCTURE.llm.num_hidden_layers);
      }
      rows.push({ task, dtype, arena, probe, missingBytes, fullPeak: probe.peak + missingBytes });
      for (const line of checkWeightBytes(model, manifest, graphs, dtype)) checks.add(line);
    }
  }
  // The MAR decoder alone at the first 1024 px iteration: the score tensor of standard attention
  // (2 rows × 16 heads × 4160² floats = 2.2 GB) against com.microsoft MultiHeadAttention.
  const attentionRows: { variant: string; peak: number; ms: number }[] = [];
  const marFolder = only ? '' : await prepareMarDecoderGraphs(context);
  for (const [variant, file] of only
    ? []
    : ([
        ['standard attention (SDK today)', 'mar_decoder.onnx'],
        ['MultiHeadAttention (fused)', 'mar_decoder.fused.onnx'],
      ] as const)) {
    context.log(`memory: mar_decoder at ${size} px, ${variant}`);
    const probe = runProbe({
      model: '',
      dtype: 'fp32',
      task: 'mar-decoder',
      size,
      graph: { path: join(marFolder, file), width: 1280, hidden: 1536, buffers: 64, grid: size / 16 },
    });
    attentionRows.push({ variant, peak: probe.peak, ms: probe.phases.taskMs });
  }
  const attentionTable = formatTable(
    ['mar_decoder, one block, fp32, 2 rows × 4160 tokens', 'peak RSS', 'run time'],
    attentionRows.map((r) => [r.variant, formatBytes(r.peak), formatMs(r.ms)]),
  );

  const table = formatTable(
    ['task', 'dtype', 'ORT CPU arena', 'after load', 'peak (1-block model)', 'left-out weights', 'peak, full model (est.)', '≤ 4 GiB', 'task time'],
    rows.map((r) => [
      r.task === 'generate' ? `generate ${size} px (2 iterations + VAE decode)` : `understand a ${size} px image (${r.probe.phases.promptTokens} prompt tokens)`,
      r.dtype,
      r.arena ? 'on (default)' : 'off',
      formatBytes(r.probe.afterLoad),
      formatBytes(r.probe.peak),
      formatBytes(r.missingBytes),
      formatBytes(r.fullPeak),
      r.fullPeak <= TARGET_BYTES ? 'yes' : 'no',
      formatMs(r.probe.phases.taskMs),
    ]),
  );
  const find = (task: string, dtype: string, arena = true) => rows.find((r) => r.task === task && r.dtype === dtype && r.arena === arena)!;
  if (only) {
    return {
      title: `Memory: peak RSS at ${size} px (cases ${only.join(', ')})`,
      table,
      notes: ['partial run (UNIPIC_BENCH_MEMORY); full model (est.) as in the full section', ...checks],
      summary: `memory at ${size} px (full-model estimates): ${rows.map((r) => `${r.task} ${r.dtype}${r.arena ? '' : ' arena off'} ${formatBytes(r.fullPeak)} in ${formatMs(r.probe.phases.taskMs)}`).join('; ')}`,
      data: { rows, size },
    };
  }
  const generateQ4 = find('generate', 'q4');
  const generateQ4NoArena = find('generate', 'q4', false);
  return {
    title: `Memory: peak RSS at ${size} px, fp32 vs q4 (CPU EP, default arena)`,
    table: `${table}\n\n${attentionTable}`,
    notes: [
      'peak = VmHWM of a fresh process (JS heap, ORT sessions and their CPU arenas, page-cache-backed weight mappings in RSS)',
      "full model (est.) = measured peak + weights of the blocks the benchmark model leaves out (LLM 27 layers, MAR 19+19 blocks, head 11 blocks; same storage rules as the converter) + for understanding the left-out layers' prefix KV",
      ...(checks.size
        ? checks
        : ["the weight-bytes model used for the extrapolation matches the converter's external-data files of the benchmark model within 1% for every graph"]),
      'the SDK converter builds MAR and VAE attention as fused MultiHeadAttention since this benchmark (src/convert/graph-plan.ts); the second table compares both forms directly',
    ],
    summary: `memory at ${size} px (full-model estimates, target ≤ 4 GiB for q4 generation): generate q4 ${formatBytes(generateQ4.fullPeak)} (${formatBytes(generateQ4NoArena.fullPeak)} with the arena off: ${generateQ4NoArena.fullPeak <= TARGET_BYTES ? 'met' : 'missed'}), fp32 ${formatBytes(find('generate', 'fp32').fullPeak)}; understand q4 ${formatBytes(find('understand', 'q4').fullPeak)}; fused MHA: one-block mar_decoder ${formatBytes(attentionRows[0].peak)} → ${formatBytes(attentionRows[1].peak)}`,
    data: { rows, size, attentionRows },
  };
}

function runProbe(request: { model: string; dtype: string; task: string; size: number; arena?: boolean; graph?: unknown }): ProbeResult {
  const script = join(import.meta.dirname, '..', 'lib', 'memory-probe.ts');
  const tsx = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'tsx');
  const run = spawnSync(tsx, [script, JSON.stringify(request)], { encoding: 'utf8', timeout: 20 * 60 * 1000, maxBuffer: 1 << 24 });
  if (run.status !== 0) throw new Error(`memory probe ${request.task} ${request.dtype} failed: ${(run.stderr || '').trim().split('\n').slice(-5).join(' ')}`);
  const line = run.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as ProbeResult;
}

/** The weight-bytes model against the converter's files for the benchmark model (within 1%?). */
function checkWeightBytes(model: string, manifest: Manifest, graphs: readonly GraphName[], dtype: 'fp32' | 'q4'): string[] {
  const out: string[] = [];
  for (const graph of graphs) {
    const variant = manifest.graphs[graph]?.[dtype];
    if (!variant) continue;
    const onDisk = variant.externalData.reduce((sum, file) => sum + statSync(join(model, file)).size, 0);
    const predicted = graphWeightBytes(MEMORY_STRUCTURE, graph, dtype);
    const error = Math.abs(onDisk - predicted) / onDisk;
    if (error > 0.01)
      out.push(`weight-bytes model off by ${(100 * error).toFixed(1)}% for ${graph} ${dtype} (${formatBytes(predicted)} vs ${formatBytes(onDisk)} on disk)`);
  }
  return out;
}
