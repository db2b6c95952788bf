import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildVaeDecoderGraph, buildVaeDecoderStripGraph } from '../../src/families/unipic1/convert/graphs/vae/vae-decoder-graph.js';
import { buildVaeEncoderGraph, buildVaeEncoderStripGraph } from '../../src/families/unipic1/convert/graphs/vae/vae-encoder-graph.js';
import { vaeConfigFromJson } from '../../src/families/unipic1/convert/graphs/vae/vae-config.js';
import { prepareGraphFolder } from '../lib/graph-folder.js';
import { MEMORY_STRUCTURE } from '../lib/memory-model.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { formatBytes, formatMs } from '../lib/stats.js';
import { SyntheticWeights } from '../lib/synthetic-weights.js';
import { formatTable } from '../lib/table.js';
import { decodeOnce, encodeOnce, type VaeDecodeRequest } from '../lib/vae-probe.js';

const FUSED = { attention: 'fused' } as const;

/** The full-width KL-16 decoder and encoder (UniPic's), one-shot and in strips, on shared synthetic weights. */
async function prepareVaeGraphs(context: BenchContext): Promise<string> {
  const config = vaeConfigFromJson(MEMORY_STRUCTURE.vae);
  const folder = join(context.cacheDir, 'vae-strips');
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
      { file: 'vae_encoder.onnx', dtype: 'fp32', build: (ctx) => buildVaeEncoderGraph(ctx, config, FUSED) },
      {
        file: 'vae_encoder_strips.onnx',
        dtype: 'fp32',
        build: (ctx) => writeFileSync(join(folder, 'encoder-plan.json'), JSON.stringify(buildVaeEncoderStripGraph(ctx, config, FUSED))),
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
  if (run.status !== 0) throw new Error(`vae probe ${vae.part ?? 'decoder'} ${vae.mode} failed: ${(run.stderr || '').trim().split('\n').slice(-5).join(' ')}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as Probe;
}

/** max |Δ| / max |x| of strips against one-shot. */
function relativeError(strips: Float32Array, reference: Float32Array): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    worst = Math.max(worst, Math.abs(strips[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return worst / scale;
}

interface Mode {
  readonly label: string;
  readonly request: VaeDecodeRequest;
}

/**
 * The UniPic-1 KL-16 decoder and encoder at full width (128–512 channels), one-shot against strips:
 * peak RSS and time of one run in a fresh process each (alternating, median of the repeats), and
 * the strips' difference from the one-shot output at 256 px. `UNIPIC_BENCH_VAE=encoder` (or
 * `decoder`) measures one side only.
 */
export async function stripVaeSection(context: BenchContext): Promise<SectionResult> {
  const folder = await prepareVaeGraphs(context);
  const channels = MEMORY_STRUCTURE.vae.embed_dim;
  const parts = (process.env.UNIPIC_BENCH_VAE ?? 'decoder,encoder').split(',');
  const small = 16;
  const errors: Record<string, number> = {};
  if (parts.includes('decoder')) {
    const reference = await decodeOnce({ folder, mode: 'one-shot', grid: small, channels });
    errors.decoder = relativeError((await decodeOnce({ folder, mode: 'strips', grid: small, channels })).pixels, reference.pixels);
  }
  if (parts.includes('encoder')) {
    const reference = await encodeOnce({ folder, mode: 'one-shot', grid: small, channels, part: 'encoder' });
    errors.encoder = relativeError((await encodeOnce({ folder, mode: 'strips', grid: small, channels, part: 'encoder' })).latents, reference.latents);
  }

  const size = context.quick ? 512 : 1024;
  const grid = size / 16;
  const modes: Mode[] = [];
  if (parts.includes('decoder')) {
    modes.push(
      { label: 'decoder: one-shot `vae_decoder` (before)', request: { folder, mode: 'one-shot', grid, channels } },
      { label: 'decoder: one-shot, ORT arena off', request: { folder, mode: 'one-shot', grid, channels, arena: false } },
      { label: 'decoder: strips (`vae_decoder_strips`, the default)', request: { folder, mode: 'strips', grid, channels } },
    );
  }
  if (parts.includes('encoder')) {
    const part = 'encoder' as const;
    modes.push(
      { label: 'encoder: one-shot `vae_encoder` (before)', request: { folder, mode: 'one-shot', grid, channels, part } },
      { label: 'encoder: one-shot, ORT arena off', request: { folder, mode: 'one-shot', grid, channels, part, arena: false } },
      { label: 'encoder: strips (`vae_encoder_strips`, now the default)', request: { folder, mode: 'strips', grid, channels, part } },
    );
  }
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
    part: mode.request.part ?? 'decoder',
    peak: median(runs[i].map((p) => p.peak)),
    ms: median(runs[i].map((p) => p.phases.taskMs)),
  }));
  // Each side's ratios are against its own one-shot run (the first row of the side).
  const base = (part: string) => rows.find((row) => row.part === part)!;
  const table = formatTable(
    [`KL-16, full width, ${size} px, fp32`, 'peak RSS', 'time', 'time vs one-shot'],
    rows.map((row) => [row.label, formatBytes(row.peak), formatMs(row.ms), `${(row.ms / base(row.part).ms).toFixed(2)}×`]),
  );
  const summary = Object.keys(errors).map((part) => {
    const strips = rows.filter((row) => row.part === part).at(-1)!;
    return `strip VAE ${part} ${size} px: peak ${formatBytes(base(part).peak)} → ${formatBytes(strips.peak)}, time ${(strips.ms / base(part).ms).toFixed(2)}× one-shot, |Δ| ${errors[part].toExponential(1)}`;
  });
  return {
    title: `Strip VAE: KL-16 at ${size} px, one-shot vs strips`,
    table,
    notes: [
      'peak = VmHWM of a fresh process: session (weights ~150–200 MB), one run, node-ort backend through the SDK checked runner',
      ...Object.entries(errors).map(
        ([part, error]) => `${part}: strips vs one-shot output at 256 px on the same full-width weights: max |Δ| / max |x| = ${error.toExponential(2)}`,
      ),
      `median of ${repeats} alternated runs`,
    ],
    summary: summary.join('; '),
    data: { rows, errors, size },
  };
}
