import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UNIPIC_1_5B } from '../../src/families/unipic1/convert/checkpoint-config.js';
import { GRAPH_NAMES, type UniPic1Manifest as Manifest } from '../../src/families/unipic1/manifest.js';
import { prepareMemoryModel } from '../lib/memory-model.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { formatBytes, formatMs, median } from '../lib/stats.js';
import { formatTable } from '../lib/table.js';
import { graphWeightBytes } from '../lib/weight-bytes.js';

/**
 * `UniPic.load` of an already converted folder, every session created (`eager`), in a fresh
 * process: cold (the folder's files dropped from the page cache first, so weights come from disk)
 * and warm (right after, from the page cache), fp32 and q4, on the full-width one-block model.
 */
export async function loadSection(context: BenchContext): Promise<SectionResult> {
  const model = await prepareMemoryModel(context.cacheDir, context.log);
  const manifest = JSON.parse(readFileSync(join(model, 'unipic.json'), 'utf8')) as Manifest;
  const rows: { dtype: string; bytes: number; fullBytes: number; cold: number; warm: number; evicted: boolean }[] = [];
  for (const dtype of ['fp32', 'q4'] as const) {
    const files = new Set<string>(['unipic.json', manifest.tokenizer.json, manifest.tokenizer.config]);
    for (const variants of Object.values(manifest.graphs)) {
      const variant = variants?.[dtype];
      if (variant) [variant.file, ...variant.externalData].forEach((f) => files.add(f));
    }
    const paths = [...files].map((f) => join(model, f));
    const bytes = manifest.files.filter((f) => files.has(f.path)).reduce((sum, f) => sum + f.size, 0);
    const colds: number[] = [];
    const warms: number[] = [];
    let evicted = true;
    for (let i = 0; i < Math.min(context.repeats, 2); i++) {
      context.log(`load: ${dtype} cold ${i + 1}`);
      evicted = evict(paths) && evicted;
      colds.push(probeLoad(model, dtype));
      context.log(`load: ${dtype} warm ${i + 1}`);
      warms.push(probeLoad(model, dtype));
    }
    const fullBytes = GRAPH_NAMES.reduce((sum, graph) => sum + (manifest.graphs[graph]?.[dtype] ? graphWeightBytes(UNIPIC_1_5B, graph, dtype) : 0), 0);
    rows.push({ dtype, bytes, fullBytes, cold: median(colds), warm: median(warms), evicted });
  }
  const table = formatTable(
    [
      'dtype',
      'files',
      'cold load (from disk)',
      'warm load (page cache)',
      'cold throughput',
      'full model weights',
      'full model, cold (est.)',
      'full model, warm (est.)',
    ],
    rows.map((r) => [
      r.dtype,
      formatBytes(r.bytes),
      formatMs(r.cold) + (r.evicted ? '' : ' (not evicted)'),
      formatMs(r.warm),
      `${(r.bytes / (r.cold / 1000) / 1e6).toFixed(0)} MB/s`,
      formatBytes(r.fullBytes),
      formatMs((r.cold * r.fullBytes) / r.bytes),
      formatMs((r.warm * r.fullBytes) / r.bytes),
    ]),
  );
  const q4 = rows.find((r) => r.dtype === 'q4')!;
  return {
    title: 'Load: UniPic.load of a converted folder, all sessions created (full widths, one block per stack)',
    table,
    notes: [
      "fresh process per load (UniPic.load with eager: true, device cpu); cold = the folder's files dropped from the page cache (posix_fadvise) just before; median of up to 2",
      'no conversion at load: the folder holds ready graphs; the SDK verifies local files by size only (verify: fast)',
      'full model (est.) scales the measured time by weight bytes (session creation is dominated by reading and pre-packing weights)',
    ],
    summary: `load: q4 cold ${formatMs(q4.cold)} / warm ${formatMs(q4.warm)} on the one-block model (full model est. ${formatMs((q4.cold * q4.fullBytes) / q4.bytes)} / ${formatMs((q4.warm * q4.fullBytes) / q4.bytes)}); fp32 cold ${formatMs(rows[0].cold)} / warm ${formatMs(rows[0].warm)}`,
    data: { rows },
  };
}

function evict(paths: readonly string[]): boolean {
  const script = join(import.meta.dirname, '..', 'python', 'evict_page_cache.py');
  const run = spawnSync('python3', [script, ...paths], { encoding: 'utf8' });
  return run.status === 0;
}

function probeLoad(model: string, dtype: string): number {
  const script = join(import.meta.dirname, '..', 'lib', 'memory-probe.ts');
  const tsx = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'tsx');
  const run = spawnSync(tsx, [script, JSON.stringify({ model, dtype, task: 'load', size: 0, eager: true })], { encoding: 'utf8', timeout: 10 * 60 * 1000 });
  if (run.status !== 0) throw new Error(`load probe failed: ${(run.stderr || '').trim().split('\n').slice(-5).join(' ')}`);
  return (JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { phases: { loadMs: number } }).phases.loadMs;
}
