import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UNIPIC_1_5B } from '../../src/convert/structure.js';
import { CAPABILITY_GRAPHS, type GraphName, type Manifest } from '../../src/spec/manifest.js';
import { MEMORY_STRUCTURE, prepareMemoryModel } from '../lib/memory-model.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { formatBytes, formatMs } from '../lib/stats.js';
import { formatTable } from '../lib/table.js';
import { graphWeightBytes } from '../lib/weight-bytes.js';

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
  const rows: { task: string; dtype: 'fp32' | 'q4'; probe: ProbeResult; missingBytes: number; fullPeak: number }[] = [];
  const checks: string[] = [];
  for (const task of ['generate', 'understand'] as const) {
    for (const dtype of ['fp32', 'q4'] as const) {
      context.log(`memory: ${task} ${size} px, ${dtype}`);
      const probe = runProbe({ model, dtype, task, size });
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
      rows.push({ task, dtype, probe, missingBytes, fullPeak: probe.peak + missingBytes });
      checks.push(...checkWeightBytes(model, manifest, graphs, dtype));
    }
  }
  const table = formatTable(
    ['task', 'dtype', 'after load', 'peak (1-block model)', 'left-out weights', 'peak, full model (est.)', '≤ 4 GiB', 'task time'],
    rows.map((r) => [
      r.task === 'generate' ? `generate ${size} px (2 iterations + VAE decode)` : `understand a ${size} px image (${r.probe.phases.promptTokens} prompt tokens)`,
      r.dtype,
      formatBytes(r.probe.afterLoad),
      formatBytes(r.probe.peak),
      formatBytes(r.missingBytes),
      formatBytes(r.fullPeak),
      r.fullPeak <= TARGET_BYTES ? 'yes' : 'no',
      formatMs(r.probe.phases.taskMs),
    ]),
  );
  const generateQ4 = rows.find((r) => r.task === 'generate' && r.dtype === 'q4')!;
  return {
    title: `Memory: peak RSS at ${size} px, fp32 vs q4 (CPU EP, default arena)`,
    table,
    notes: [
      'peak = VmHWM of a fresh process (JS heap, ORT sessions and their CPU arenas, page-cache-backed weight mappings in RSS)',
      'full model (est.) = measured peak + weights of the blocks the benchmark model leaves out (LLM 27 layers, MAR 19+19 blocks, head 11 blocks; same storage rules as the converter) + for understanding the left-out layers\' prefix KV',
      ...checks,
    ],
    summary: `memory at ${size} px: generate q4 ${formatBytes(generateQ4.fullPeak)} full-model estimate (target ≤ 4 GiB: ${generateQ4.fullPeak <= TARGET_BYTES ? 'met' : 'missed'}), fp32 ${formatBytes(rows.find((r) => r.task === 'generate' && r.dtype === 'fp32')!.fullPeak)}; understand q4 ${formatBytes(rows.find((r) => r.task === 'understand' && r.dtype === 'q4')!.fullPeak)}`,
    data: { rows, size },
  };
}

function runProbe(request: { model: string; dtype: string; task: string; size: number }): ProbeResult {
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
    if (error > 0.01) out.push(`weight-bytes model off by ${(100 * error).toFixed(1)}% for ${graph} ${dtype} (${formatBytes(predicted)} vs ${formatBytes(onDisk)} on disk)`);
  }
  return out;
}
