import { join } from 'node:path';
import { UNIPIC_1_5B, toModelConfig } from '../../src/convert/structure.js';
import { prepareDecodeModels, type OurDecodeVariant } from '../lib/decode-models.js';
import { OurDecoder, TransformersDecoder, decodeTimings, type DecodeTrace } from '../lib/decode-runners.js';
import { measureBandwidth } from '../lib/memory-bandwidth.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { formatBytes, formatMs, formatRatio, median } from '../lib/stats.js';
import { formatTable } from '../lib/table.js';

/** Our decode configurations: what the converter ships today, and the proposed q4 setting. */
export const DECODE_VARIANTS: readonly OurDecodeVariant[] = [
  { id: 'fp32', dtype: 'fp32', description: 'converter default' },
  { id: 'q4', dtype: 'q4', description: 'converter default (asymmetric, accuracy level 0)' },
  { id: 'q4-acc4', dtype: 'q4', description: 'accuracy level 4 (int8 activations)', derive: { from: 'q4', accuracyLevel: 4 } },
];

interface Measured {
  readonly system: string;
  readonly dtype: 'fp32' | 'q4';
  readonly variant: string;
  readonly firstTokenMs: number;
  readonly perTokenMs: number;
  readonly runs: number[];
  readonly weightBytes: number;
  readonly ids: number[];
  readonly graphMs: (Record<string, number> | undefined)[];
}

/**
 * LLM decode, full Qwen2.5-1.5B shapes with seeded random weights: our understanding loop vs
 * transformers.js `generate` on the same weights in its causal-LM layout, fp32 and q4, greedy,
 * same prompt and token count; plus the machine's memory bandwidth and the decode roofline.
 */
export async function decodeSection(context: BenchContext): Promise<SectionResult> {
  const structure = UNIPIC_1_5B;
  const config = toModelConfig(structure);
  context.log('decode: preparing full-size Qwen2.5-1.5B graphs (cached after the first run)');
  const folder = await prepareDecodeModels(join(context.cacheDir, 'decode-qwen2.5-1.5b'), structure, DECODE_VARIANTS, context.log);
  const promptTokens = context.quick ? 8 : 32;
  const prompt = Array.from({ length: promptTokens }, (_, i) => 1000 + ((i * 7919) % 50000));
  const newTokens = { fp32: context.quick ? 3 : 6, q4: context.quick ? 4 : 12 };
  const repeats = context.repeats;

  context.log('decode: measuring memory bandwidth');
  const bandwidth = await measureBandwidth();
  const measured: Measured[] = [];
  type Decoder = { generate(p: readonly number[], n: number): Promise<DecodeTrace>; close(): Promise<void> };
  // Per dtype, every system is loaded at once and the runs alternate, so that load swings on a
  // shared machine (they reach 3× here) hit all systems alike.
  for (const dtype of ['fp32', 'q4'] as const) {
    const systems: { system: string; variant: string; decoder: Decoder; traces: DecodeTrace[] }[] = [];
    try {
      context.log(`decode: loading transformers.js ${dtype}`);
      systems.push({ system: 'transformers.js', variant: dtype, decoder: await TransformersDecoder.open(folder.root, dtype), traces: [] });
      for (const variant of DECODE_VARIANTS.filter((v) => v.dtype === dtype)) {
        context.log(`decode: loading unipic ${variant.id}`);
        systems.push({ system: 'unipic', variant: variant.id, decoder: await OurDecoder.open(folder.onnxDir, folder.ours[variant.id], config), traces: [] });
      }
      for (const entry of systems) await entry.decoder.generate(prompt, 2);
      for (let i = 0; i < repeats; i++) {
        for (const entry of systems) {
          context.log(`decode: ${entry.system} ${entry.variant}, run ${i + 1}/${repeats}`);
          entry.traces.push(await entry.decoder.generate(prompt, newTokens[dtype]));
        }
      }
    } finally {
      for (const entry of systems) await entry.decoder.close();
    }
    for (const entry of systems) {
      const timings = entry.traces.map(decodeTimings);
      measured.push({
        system: entry.system,
        dtype,
        variant: entry.variant,
        firstTokenMs: median(timings.map((t) => t.firstTokenMs)),
        perTokenMs: median(timings.map((t) => t.perTokenMs)),
        runs: timings.map((t) => t.perTokenMs),
        weightBytes: folder.weightBytesPerToken[entry.system === 'transformers.js' ? `tjs-${dtype}` : entry.variant],
        ids: entry.traces[0].ids,
        graphMs: entry.traces.map((t) => t.graphMs),
      });
    }
  }

  const kvBytes = (length: number) => 2 * config.llm.numLayers * config.llm.numKeyValueHeads * config.llm.headDim * 4 * length;
  const averageContext = promptTokens + Math.max(newTokens.fp32, newTokens.q4) / 2;
  const rows = measured.map((m) => {
    const baseline = measured.find((b) => b.system === 'transformers.js' && b.dtype === m.dtype)!;
    const bytes = m.weightBytes + kvBytes(averageContext);
    const rooflineMs = (bytes / bandwidth.ortRead) * 1000;
    return {
      ...m,
      speedup: baseline.perTokenMs / m.perTokenMs,
      rooflineMs,
      rooflineFraction: rooflineMs / m.perTokenMs,
      sameTokensAsBaseline: m.ids.join(',') === baseline.ids.join(','),
    };
  });
  const table = formatTable(
    ['system', 'graphs', 'bytes read / token', 'first token', 'ms / token', 'tokens / s', 'vs transformers.js', 'roofline ms', 'of roofline'],
    rows.map((r) => [
      r.system,
      r.system === 'transformers.js' ? `causal-LM ${r.dtype}` : r.variant,
      formatBytes(r.weightBytes),
      formatMs(r.firstTokenMs),
      formatMs(r.perTokenMs),
      (1000 / r.perTokenMs).toFixed(2),
      formatRatio(r.speedup),
      formatMs(r.rooflineMs),
      `${(100 * r.rooflineFraction).toFixed(0)}%`,
    ]),
  );
  const best = (dtype: 'fp32' | 'q4') => rows.filter((r) => r.system === 'unipic' && r.dtype === dtype).reduce((a, b) => (b.speedup > a.speedup ? b : a));
  const shipped = (dtype: 'fp32' | 'q4') => rows.find((r) => r.system === 'unipic' && r.variant === dtype)!;
  const summary =
    `decode vs transformers.js (target ≥ 1.30×): fp32 ${formatRatio(shipped('fp32').speedup)}, ` +
    `q4 ${formatRatio(shipped('q4').speedup)} as shipped, best q4 ${formatRatio(best('q4').speedup)} (${best('q4').variant}); ` +
    `bandwidth ${(bandwidth.ortRead / 1e9).toFixed(1)} GB/s; best q4 at ${(100 * best('q4').rooflineFraction).toFixed(0)}% of roofline`;
  return {
    title: 'LLM decode: Qwen2.5-1.5B shapes, seeded random weights, greedy',
    table,
    notes: [
      `prompt ${promptTokens} tokens, ${newTokens.fp32} (fp32) / ${newTokens.q4} (q4) new tokens, median of ${repeats} runs after a warm-up; ms / token = (last token − first token) / (n − 1)`,
      `bandwidth: ${(bandwidth.ortRead / 1e9).toFixed(1)} GB/s ORT fp32 GEMV over 1 GiB (default threads), ${(bandwidth.singleThreadCopy / 1e9).toFixed(1)} GB/s one-thread JS copy (read + write)`,
      `roofline = (weights read per token + KV cache at ${averageContext} tokens) / GEMV bandwidth; embedding rows are not counted (one row per token)`,
      `fp32 greedy tokens identical to transformers.js: ${rows.filter((r) => r.dtype === 'fp32').every((r) => r.sameTokensAsBaseline) ? 'yes' : 'NO'}`,
    ],
    summary,
    data: { bandwidth, rows, promptTokens, newTokens },
  };
}
