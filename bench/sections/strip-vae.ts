import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildVaeDecoderGraph, buildVaeDecoderStripGraph } from '../../src/families/unipic1/convert/graphs/vae/vae-decoder-graph.js';
import { vaeConfigFromJson } from '../../src/families/unipic1/convert/graphs/vae/vae-config.js';
import { prepareGraphFolder } from '../lib/graph-folder.js';
import { MEMORY_STRUCTURE } from '../lib/memory-model.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { formatBytes, formatMs } from '../lib/stats.js';
import { SyntheticWeights } from '../lib/synthetic-weights.js';
import { formatTable } from '../lib/table.js';
import { decodeOnce, type VaeDecodeRequest } from '../lib/vae-decoder-probe.js';

const FUSED = { attention: 'fused' } as const;

/** The full-width KL-16 decoder (UniPic's), one-shot and as strip stages, on shared synthetic weights. */
async function prepareVaeGraphs(context: BenchContext): Promise<string> {
  const config = vaeConfigFromJson(MEMORY_STRUCTURE.vae);
  const folder = join(context.cacheDir, 'vae-decoder-strips');
  return prepareGraphFolder(
    folder,
    MEMORY_STRUCTURE.vae,
    new SyntheticWeights(MEMORY_STRUCTURE),
    [
      { file: 'vae_decoder.onnx', dtype: 'fp32', build: (ctx) => buildVaeDecoderGraph(ctx, config, FUSED) },
      {
        file: 'vae_decoder_strips.onnx',
        dtype: 'fp32',
        build: (ctx) => writeFileSync(join(folder, 'strips-plan.json'), JSON.stringify(buildVaeDecoderStripGraph(ctx, config, FUSED))),
      },
    ],
    context.log,
  );
}

interface Probe {
  peak: number;
  phases: { loadMs: number; taskMs: number };
}

function probe(vae: VaeDecodeRequest): Probe {
  const script = join(import.meta.dirname, '..', 'lib', 'memory-probe.ts');
  const tsx = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'tsx');
  const run = spawnSync(tsx, [script, JSON.stringify({ model: '', dtype: 'fp32', task: 'vae-decoder', size: vae.grid * 16, vae })], {
    encoding: 'utf8',
    timeout: 20 * 60 * 1000,
    maxBuffer: 1 << 24,
  });
  if (run.status !== 0) throw new Error(`vae probe ${vae.mode} failed: ${(run.stderr || '').trim().split('\n').slice(-5).join(' ')}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as Probe;
}

/**
 * The UniPic-1 KL-16 decoder at full width (128–512 channels), one-shot against strip decoding:
 * peak RSS and time of one decode in a fresh process each (alternating, median of the repeats),
 * and the strips' difference from the one-shot output at 256 px.
 */
export async function stripVaeSection(context: BenchContext): Promise<SectionResult> {
  const folder = await prepareVaeGraphs(context);
  const channels = MEMORY_STRUCTURE.vae.embed_dim;
  const small = 16;
  const reference = await decodeOnce({ folder, mode: 'one-shot', grid: small, channels });
  const strips = await decodeOnce({ folder, mode: 'strips', grid: small, channels });
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < reference.pixels.length; i++) {
    worst = Math.max(worst, Math.abs(strips.pixels[i] - reference.pixels[i]));
    scale = Math.max(scale, Math.abs(reference.pixels[i]));
  }
  const error = worst / scale;

  const size = context.quick ? 512 : 1024;
  const grid = size / 16;
  const modes = [
    { label: 'one-shot `vae_decoder` (before)', request: { folder, mode: 'one-shot', grid, channels } },
    { label: 'one-shot, ORT arena off', request: { folder, mode: 'one-shot', grid, channels, arena: false } },
    { label: 'strips (`vae_decoder_strips`, now the default)', request: { folder, mode: 'strips', grid, channels } },
  ] as const;
  const runs = modes.map(() => [] as Probe[]);
  const repeats = Math.max(1, Math.min(2, context.repeats));
  for (let r = 0; r < repeats; r++) {
    modes.forEach((mode, i) => {
      context.log(`strip-vae: ${size} px, ${mode.label} (${r + 1}/${repeats})`);
      runs[i].push(probe(mode.request));
    });
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
  const rows = modes.map((mode, i) => ({
    label: mode.label,
    peak: median(runs[i].map((p) => p.peak)),
    ms: median(runs[i].map((p) => p.phases.taskMs)),
  }));
  const base = rows[0];
  const table = formatTable(
    [`KL-16 decoder, full width, ${size} px, fp32`, 'peak RSS', 'decode time', 'time vs one-shot'],
    rows.map((row) => [row.label, formatBytes(row.peak), formatMs(row.ms), `${(row.ms / base.ms).toFixed(2)}×`]),
  );
  return {
    title: `Strip VAE decode: KL-16 at ${size} px, one-shot vs strips`,
    table,
    notes: [
      'peak = VmHWM of a fresh process: session (weights ~200 MB), one decode, node-ort backend through the SDK checked runner',
      `strips vs one-shot output at 256 px on the same full-width weights: max |Δ| / max |x| = ${error.toExponential(2)}`,
      `median of ${repeats} alternated runs`,
    ],
    summary: `strip VAE ${size} px: peak ${formatBytes(base.peak)} → ${formatBytes(rows[2].peak)}, time ${(rows[2].ms / base.ms).toFixed(2)}× one-shot, |Δ| ${error.toExponential(1)}`,
    data: { rows, error, size },
  };
}
