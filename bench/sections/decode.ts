import { join } from 'node:path';
import { UNIPIC_1_5B, toModelConfig } from '../../src/families/unipic1/convert/checkpoint-config.js';
import { prepareDecodeModels, type OurDecodeVariant } from '../lib/decode-models.js';
import { OurDecoder, TransformersDecoder, decodeTimings, type DecodeTrace } from '../lib/decode-runners.js';
import { ensureQwen2Gguf } from '../lib/gguf-qwen2.js';
import { LlamaCppDecoder } from '../lib/llama-cpp-decoder.js';
import { SyntheticWeights } from '../lib/synthetic-weights.js';
import { measureBandwidth } from '../lib/memory-bandwidth.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { formatBytes, formatMs, formatRatio, median } from '../lib/stats.js';
import { formatTable } from '../lib/table.js';

/** Our decode configurations: what the converter ships today, and the proposed q4 setting. */
/** Cache length after the prompt of understanding a 1024 px image (4160 visual + ~20 text tokens). */
const LONG_CONTEXT = 4180;

export const DECODE_VARIANTS: readonly OurDecodeVariant[] = [
  { id: 'fp32', dtype: 'fp32', description: 'converter default' },
  { id: 'q4', dtype: 'q4', description: 'converter default (asymmetric, accuracy level 0)' },
  { id: 'q4-acc4', dtype: 'q4', description: 'accuracy level 4 (int8 activations)', derive: { from: 'q4', accuracyLevel: 4 } },
  {
    id: 'q4-acc4 · in-place KV',
    dtype: 'q4',
    description: "accuracy level 4, llm graph built with kvCache: 'in-place'",
    body: { kvCache: 'in-place', linear: { accuracyLevel: 4 } },
    head: { accuracyLevel: 4 },
  },
  { id: 'q4-acc4 · 1 thread', dtype: 'q4', description: 'one intra-op thread', sessions: { from: 'q4-acc4', threads: 1 } },
  {
    id: 'q4-acc4 · spinning threads',
    dtype: 'q4',
    description: "ORT's default before the node-ort adapter turned it off",
    sessions: { from: 'q4-acc4', spinning: true },
  },
];

/**
 * llama.cpp's file type per dtype group: Q4_0 beside q4; F16 beside fp32, not F32, because the fp32
 * group already holds transformers.js' and our 6.2 GB of weights at once and a third copy would
 * not fit beside other work in 24 GB (llama.cpp's F16 matrices widen to float32 before the product).
 */
const GGUF_TYPES = { fp32: 'F16', q4: 'Q4_0' } as const;
const LLAMA_SYSTEM = 'llama.cpp';

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
  const newTokens = { fp32: context.quick ? 3 : 6, q4: context.quick ? 4 : 12, long: context.quick ? 3 : 6 };
  const repeats = context.repeats;

  context.log('decode: writing the same weights as llama.cpp GGUF (cached after the first run)');
  const ggufWeights = new SyntheticWeights(structure);
  const gguf = {} as Record<'fp32' | 'q4', { path: string; bytes: number }>;
  for (const dtype of ['fp32', 'q4'] as const) {
    const path = join(context.cacheDir, 'decode-qwen2.5-1.5b', `llama-${GGUF_TYPES[dtype]}.gguf`);
    gguf[dtype] = { path, bytes: await ensureQwen2Gguf(path, structure, ggufWeights, GGUF_TYPES[dtype], context.log) };
  }
  let llamaBuild = '';

  context.log('decode: measuring memory bandwidth');
  const bandwidth = await measureBandwidth();
  const measured: Measured[] = [];
  const longContext: Record<string, { perTokenMs: number; graphMs: unknown[] }> = {};
  const prefillHidden = new Map<string, Float32Array>();
  type Decoder = { generate(p: readonly number[], n: number, past?: number): Promise<DecodeTrace>; close(): Promise<void> };
  // Per dtype, every system is loaded at once and the runs alternate, so that load swings on a
  // shared machine (they reach 3× here) hit all systems alike.
  for (const dtype of ['fp32', 'q4'] as const) {
    const systems: { system: string; variant: string; decoder: Decoder; traces: DecodeTrace[] }[] = [];
    try {
      context.log(`decode: loading transformers.js ${dtype}`);
      systems.push({ system: 'transformers.js', variant: dtype, decoder: await TransformersDecoder.open(folder.root, dtype), traces: [] });
      context.log(`decode: loading llama.cpp ${GGUF_TYPES[dtype]}`);
      const llama = await LlamaCppDecoder.open(gguf[dtype].path, { threads: 2, contextSize: 512 });
      llamaBuild = llama.buildInfo;
      systems.push({ system: LLAMA_SYSTEM, variant: GGUF_TYPES[dtype], decoder: llama, traces: [] });
      // One thread as well: ggml's workers spin at each op's barrier, so on a loaded machine two
      // threads can lose to one (our own 1-thread row shows the same for ORT).
      if (dtype === 'q4') {
        const single = await LlamaCppDecoder.open(gguf[dtype].path, { threads: 1, contextSize: 512 });
        systems.push({ system: LLAMA_SYSTEM, variant: `${GGUF_TYPES[dtype]} · 1 thread`, decoder: single, traces: [] });
      }
      for (const variant of DECODE_VARIANTS.filter((v) => v.dtype === dtype)) {
        context.log(`decode: loading unipic ${variant.id}`);
        const files = folder.ours[variant.sessions?.from ?? variant.id];
        const body = DECODE_VARIANTS.find((v) => v.id === (variant.sessions?.from ?? variant.id))?.body;
        const inPlace = body?.kvCache === 'in-place' ? (body.inPlaceLayout ?? 'values-transposed') : undefined;
        const decoder = await OurDecoder.open(folder.onnxDir, files, config, { threads: variant.sessions?.threads, spinning: variant.sessions?.spinning, inPlace });
        systems.push({ system: 'unipic', variant: variant.id, decoder, traces: [] });
      }
      for (const entry of systems) await entry.decoder.generate(prompt, 2);
      for (let i = 0; i < repeats; i++) {
        for (const entry of systems) {
          context.log(`decode: ${entry.system} ${entry.variant}, run ${i + 1}/${repeats}`);
          entry.traces.push(await entry.decoder.generate(prompt, newTokens[dtype]));
        }
      }
      for (const entry of systems) {
        if (entry.decoder instanceof OurDecoder && entry.decoder.prefillHidden) prefillHidden.set(entry.variant, entry.decoder.prefillHidden);
      }
      // Long context: understanding a 1024 px image leaves ~4180 positions in the cache. The copying
      // cache and the in-place one alternate run by run.
      const longSystems = systems.filter((entry) => entry.variant === 'q4-acc4' || entry.variant === 'q4-acc4 · in-place KV');
      const longTraces = new Map<string, DecodeTrace[]>(longSystems.map((entry) => [entry.variant, []]));
      for (let i = 0; i < repeats; i++) {
        for (const entry of longSystems) {
          context.log(`decode: unipic ${entry.variant} after ${LONG_CONTEXT} cached positions, run ${i + 1}/${repeats}`);
          longTraces.get(entry.variant)!.push(await entry.decoder.generate(prompt.slice(0, 8), newTokens.long, LONG_CONTEXT));
        }
      }
      for (const [variant, traces] of longTraces) {
        longContext[variant] = { perTokenMs: median(traces.map((t) => decodeTimings(t).perTokenMs)), graphMs: traces.map((t) => t.graphMs) };
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
        weightBytes:
          entry.system === LLAMA_SYSTEM
            ? gguf[dtype].bytes
            : folder.weightBytesPerToken[
                entry.system === 'transformers.js' ? `tjs-${dtype}` : (DECODE_VARIANTS.find((v) => v.id === entry.variant)?.sessions?.from ?? entry.variant)
              ],
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
  // Parity: the prompt's final hidden states (max |Δ| / max |reference|). q4 against fp32 is the
  // 4-bit weights' own error through 28 random layers; accuracy level 4 against level 0 is what the
  // int8 activations add on top.
  const parity: Record<string, number> = {};
  const hidden = (id: string) => prefillHidden.get(id);
  if (hidden('q4') && hidden('fp32')) parity['q4 vs fp32'] = normalizedError(hidden('q4')!, hidden('fp32')!);
  if (hidden('q4-acc4') && hidden('q4')) parity['q4-acc4 vs q4'] = normalizedError(hidden('q4-acc4')!, hidden('q4')!);
  if (hidden('q4-acc4') && hidden('fp32')) parity['q4-acc4 vs fp32'] = normalizedError(hidden('q4-acc4')!, hidden('fp32')!);
  const table = formatTable(
    ['system', 'graphs', 'bytes read / token', 'first token', 'ms / token', 'tokens / s', 'vs transformers.js', 'roofline ms', 'of roofline'],
    rows.map((r) => [
      r.system,
      r.system === 'transformers.js' ? `causal-LM ${r.dtype}` : r.system === LLAMA_SYSTEM ? `GGUF ${r.variant}` : r.variant,
      formatBytes(r.weightBytes),
      formatMs(r.firstTokenMs),
      formatMs(r.perTokenMs),
      (1000 / r.perTokenMs).toFixed(2),
      formatRatio(r.speedup),
      formatMs(r.rooflineMs),
      `${(100 * r.rooflineFraction).toFixed(0)}%`,
    ]),
  );
  const variant = (id: string) => rows.find((r) => r.system === 'unipic' && r.variant === id)!;
  const llamaQ4 = rows.find((r) => r.system === LLAMA_SYSTEM && r.dtype === 'q4')!;
  const vsLlama = (id: string) => llamaQ4.perTokenMs / variant(id).perTokenMs;
  const long = (id: string) => longContext[id];
  const growth = (id: string) => (long(id) ? long(id).perTokenMs / variant(id).perTokenMs : Number.NaN);
  const summary =
    `decode vs transformers.js (target ≥ 1.30×): fp32 ${formatRatio(variant('fp32').speedup)}, ` +
    `q4 ${formatRatio(variant('q4').speedup)} (converter default, accuracy level 0), q4-acc4 ${formatRatio(variant('q4-acc4').speedup)}; ` +
    `vs llama.cpp Q4_0 (target ≥ 1.0×): q4-acc4 ${formatRatio(vsLlama('q4-acc4'))}, in-place ${formatRatio(vsLlama('q4-acc4 · in-place KV'))}; ` +
    `bandwidth ${(bandwidth.ortRead / 1e9).toFixed(1)} GB/s; q4-acc4 at ${(100 * variant('q4-acc4').rooflineFraction).toFixed(0)}% of roofline; ` +
    `after ${LONG_CONTEXT} cached positions (target ≤ 1.3× the short-context time): copying cache ${formatRatio(growth('q4-acc4'))}, in-place ${formatRatio(growth('q4-acc4 · in-place KV'))}`;
  return {
    title: 'LLM decode: Qwen2.5-1.5B shapes, seeded random weights, greedy',
    table,
    notes: [
      `prompt ${promptTokens} tokens, ${newTokens.fp32} (fp32) / ${newTokens.q4} (q4) new tokens, median of ${repeats} runs after a warm-up; ms / token = (last token − first token) / (n − 1)`,
      `bandwidth: ${(bandwidth.ortRead / 1e9).toFixed(1)} GB/s ORT fp32 GEMV over 1 GiB (default threads), ${(bandwidth.singleThreadCopy / 1e9).toFixed(1)} GB/s one-thread JS copy (read + write)`,
      `roofline = (weights read per token + KV cache at ${averageContext} tokens) / GEMV bandwidth; embedding rows are not counted (one row per token)`,
      `fp32 greedy tokens identical to transformers.js: ${rows.filter((r) => r.dtype === 'fp32' && r.system === 'unipic').every((r) => r.sameTokensAsBaseline) ? 'yes' : 'NO'}`,
      ...Object.entries(longContext).map(
        ([id, m]) =>
          `long context: unipic ${id} decodes at ${formatMs(m.perTokenMs)} / token after ${LONG_CONTEXT} cached positions (KV ${formatBytes(kvBytes(LONG_CONTEXT))}), ${formatRatio(growth(id))} its time at ${averageContext}`,
      ),
      `llama.cpp: node-llama-cpp 3.21.1 prebuilt CPU binary (${llamaBuild}), GGUF written by bench/lib/gguf-qwen2.ts from the same weights; greedy tokens identical to transformers.js: ${rows
        .filter((r) => r.system === LLAMA_SYSTEM)
        .map((r) => `${r.variant} ${r.sameTokensAsBaseline ? 'yes' : 'no'}`)
        .join(', ')}`,
      `parity of the prompt's final hidden states (max |Δ| / max |reference|, 28 random layers): ${Object.entries(parity)
        .map(([id, e]) => `${id} ${e.toExponential(1)}`)
        .join(', ')}`,
    ],
    summary,
    data: { bandwidth, rows, promptTokens, newTokens, parity, longContext },
  };
}

function normalizedError(actual: Float32Array, expected: Float32Array): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return worst / scale;
}
