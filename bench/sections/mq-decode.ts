import { existsSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MetaqueryManifest } from '../../src/families/unipic2-metaquery/manifest.js';
import { decodeTimings, TransformersDecoder, type DecodeTrace } from '../lib/decode-runners.js';
import { measureBandwidth } from '../lib/memory-bandwidth.js';
import { writeCausalLmFolder } from '../lib/mq-causal-lm.js';
import { MqDecoder } from '../lib/mq-decoder.js';
import { withAccuracyLevel } from '../lib/onnx-patch.js';
import type { BenchContext, SectionResult } from '../lib/section.js';
import { formatBytes, formatMs, formatRatio, median } from '../lib/stats.js';
import { formatTable } from '../lib/table.js';

/** A converted full-size UniPic2-Metaquery q4 folder (bench/mq-full-size.ts make + convert). */
export const MQ_MODEL_ENV = 'UNIPIC_MQ_MODEL';

/**
 * Qwen2.5-VL-7B's language model at q4 (random weights, published shapes): the SDK's Metaquery
 * understanding loop against transformers.js `generate` on the same 4-bit bytes (see
 * mq-causal-lm.ts for why the peer runs the Qwen2 text layout), greedy, same prompt and token
 * count; plus the machine's memory bandwidth and the decode roofline.
 */
export async function mqDecodeSection(context: BenchContext): Promise<SectionResult> {
  const modelDir = process.env[MQ_MODEL_ENV];
  if (!modelDir || !existsSync(join(modelDir, 'unipic.json')))
    throw new Error(`${MQ_MODEL_ENV} must name a converted full-size Metaquery q4 folder (npx tsx bench/mq-full-size.ts make/convert)`);
  const manifest = JSON.parse(await readFile(join(modelDir, 'unipic.json'), 'utf8')) as MetaqueryManifest;
  const variant = (graph: 'embed' | 'llm' | 'lm_head') => {
    const found = manifest.graphs[graph]?.q4;
    if (!found) throw new Error(`${modelDir} has no q4 ${graph} graph`);
    return found;
  };
  const sizes = new Map(manifest.files.map((file) => [file.path, file.size]));
  const graphBytes = (graph: 'llm' | 'lm_head') => variant(graph).externalData.reduce((sum, path) => sum + (sizes.get(path) ?? 0), 0);
  const weightBytes = graphBytes('llm') + graphBytes('lm_head');
  const config = manifest.config;
  const vocabSize = (config.llm as { vocabSize?: number }).vocabSize ?? 152064;

  const root = join(context.cacheDir, 'mq-decode-tjs');
  await rm(root, { recursive: true, force: true });
  context.log('mq-decode: joining embed + llm + lm_head into the transformers.js causal-LM layout (same weight files)');
  await writeCausalLmFolder(modelDir, root, config, { embed: variant('embed'), llm: variant('llm'), lm_head: variant('lm_head') }, vocabSize, 'model_q4.onnx');
  await writeFile(join(root, 'config.json'), JSON.stringify(qwen2Config(config, vocabSize), null, 2));
  // No eos: both loops then run exactly the requested number of tokens.
  await writeFile(join(root, 'generation_config.json'), JSON.stringify({ bos_token_id: 151643, eos_token_id: null }, null, 2));

  const promptTokens = context.quick ? 8 : 32;
  const prompt = Array.from({ length: promptTokens }, (_, i) => 1000 + ((i * 7919) % 50000));
  const newTokens = context.quick ? 4 : 10;
  context.log('mq-decode: measuring memory bandwidth');
  const bandwidth = await measureBandwidth();
  type Decoder = { generate(p: readonly number[], n: number): Promise<DecodeTrace>; close(): Promise<void> };
  const systems: { system: string; decoder: Decoder; traces: DecodeTrace[]; openMs: number }[] = [];
  try {
    for (const [system, open] of [
      ['transformers.js', () => TransformersDecoder.open(root, 'q4')],
      ['unipic', () => MqDecoder.open(modelDir, config, { embed: variant('embed').file, llm: variant('llm').file, lm_head: variant('lm_head').file })],
    ] as const) {
      context.log(`mq-decode: loading ${system}`);
      const started = performance.now();
      const decoder: Decoder = await open();
      systems.push({ system, decoder, traces: [], openMs: performance.now() - started });
    }
    for (const entry of systems) await entry.decoder.generate(prompt.slice(0, 4), 2);
    // Alternating runs: load swings on a shared machine hit both systems alike.
    for (let i = 0; i < context.repeats; i++) {
      for (const entry of systems) {
        context.log(`mq-decode: ${entry.system}, run ${i + 1}/${context.repeats}`);
        entry.traces.push(await entry.decoder.generate(prompt, newTokens));
      }
    }
  } finally {
    for (const entry of systems) await entry.decoder.close();
  }
  // The graphs at MatMulNBits accuracy level 4 (int8 activations, docs/performance.md): what the
  // converter writes since this comparison (folders converted before have level 0). Measured alone
  // afterwards, to keep one 7B in memory.
  const acc4 = { llm: 'llm.q4-acc4.bench.onnx', lm_head: 'lm_head.q4-acc4.bench.onnx' };
  for (const graph of ['llm', 'lm_head'] as const)
    await writeFile(join(modelDir, acc4[graph]), withAccuracyLevel(await readFile(join(modelDir, variant(graph).file)), 4));
  {
    context.log('mq-decode: loading unipic q4-acc4');
    const started = performance.now();
    const decoder = await MqDecoder.open(modelDir, config, { embed: variant('embed').file, ...acc4 });
    const entry = { system: 'unipic q4-acc4', decoder, traces: [] as DecodeTrace[], openMs: performance.now() - started };
    try {
      await decoder.generate(prompt.slice(0, 4), 2);
      for (let i = 0; i < context.repeats; i++) {
        context.log(`mq-decode: unipic q4-acc4, run ${i + 1}/${context.repeats}`);
        entry.traces.push(await decoder.generate(prompt, newTokens));
      }
    } finally {
      await decoder.close();
      for (const file of Object.values(acc4)) await rm(join(modelDir, file), { force: true });
    }
    systems.push(entry);
  }
  const { numLayers, numKeyValueHeads, headDim } = config.llm;
  const averageContext = promptTokens + newTokens / 2;
  const kvBytes = 2 * numLayers * numKeyValueHeads * headDim * 4 * averageContext;
  const rooflineMs = ((weightBytes + kvBytes) / bandwidth.ortRead) * 1000;
  const rows = systems.map((entry) => {
    const timings = entry.traces.map(decodeTimings);
    return {
      system: entry.system,
      openMs: entry.openMs,
      firstTokenMs: median(timings.map((t) => t.firstTokenMs)),
      perTokenMs: median(timings.map((t) => t.perTokenMs)),
      runs: timings.map((t) => t.perTokenMs),
      ids: entry.traces[0].ids,
    };
  });
  const baseline = rows.find((r) => r.system === 'transformers.js')!;
  const ours = rows.find((r) => r.system === 'unipic')!;
  const acc4Row = rows.find((r) => r.system === 'unipic q4-acc4')!;
  const table = formatTable(
    ['system', 'session load', 'first token', 'ms / token', 'tokens / s', 'vs transformers.js', 'of roofline'],
    rows.map((r) => [
      r.system,
      formatMs(r.openMs),
      formatMs(r.firstTokenMs),
      formatMs(r.perTokenMs),
      (1000 / r.perTokenMs).toFixed(2),
      formatRatio(baseline.perTokenMs / r.perTokenMs),
      `${((100 * rooflineMs) / r.perTokenMs).toFixed(0)}%`,
    ]),
  );
  const sameTokens = ours.ids.join(',') === baseline.ids.join(',');
  return {
    title: 'Metaquery LLM decode: Qwen2.5-VL-7B language model, q4, random weights, greedy',
    table,
    notes: [
      `prompt ${promptTokens} text tokens, ${newTokens} new tokens, median of ${context.repeats} alternating runs after a warm-up; ms / token = (last token − first token) / (n − 1)`,
      `weights read per token: ${formatBytes(weightBytes)} (llm + lm_head q4 data; embedding rows not counted) + KV ${formatBytes(kvBytes)} at ${averageContext} positions`,
      `bandwidth: ${(bandwidth.ortRead / 1e9).toFixed(1)} GB/s ORT fp32 GEMV over 1 GiB, ${(bandwidth.singleThreadCopy / 1e9).toFixed(1)} GB/s one-thread JS copy; roofline ${formatMs(rooflineMs)} / token`,
      `greedy tokens identical in both runtimes: ${sameTokens ? 'yes' : 'NO'}; q4-acc4 (int8 activations) against q4: ${acc4Row.ids.join(',') === ours.ids.join(',') ? 'same tokens' : 'different tokens (expected on random weights: near-tied logits)'}`,
      'unipic q4-acc4: the same graphs with every MatMulNBits at accuracy level 4, measured alone after the alternating runs (one 7B in memory at a time)',
    ],
    summary: `Metaquery 7B q4 decode: unipic ${(1000 / ours.perTokenMs).toFixed(2)} tokens/s, ${formatRatio(baseline.perTokenMs / ours.perTokenMs)} transformers.js (accuracy level 4: ${formatRatio(baseline.perTokenMs / acc4Row.perTokenMs)}), ${((100 * rooflineMs) / ours.perTokenMs).toFixed(0)}% of the ${(bandwidth.ortRead / 1e9).toFixed(1)} GB/s roofline`,
    data: {
      bandwidth,
      rows,
      weightBytes,
      kvBytes,
      rooflineMs,
      promptTokens,
      newTokens,
      sameTokens,
      weightFileBytes: (await stat(join(modelDir, variant('llm').file))).size,
    },
  };
}

/** What transformers.js reads to build a Qwen2 causal LM (the 7B's language-model numbers). */
function qwen2Config(config: MetaqueryManifest['config'], vocabSize: number) {
  const llm = config.llm as MetaqueryManifest['config']['llm'] & { numHeads?: number; intermediateSize?: number; rmsNormEps?: number };
  return {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    hidden_act: 'silu',
    hidden_size: llm.hiddenSize,
    intermediate_size: llm.intermediateSize,
    num_hidden_layers: llm.numLayers,
    num_attention_heads: llm.numHeads,
    num_key_value_heads: llm.numKeyValueHeads,
    head_dim: llm.headDim,
    max_position_embeddings: llm.maxPositionEmbeddings,
    rms_norm_eps: llm.rmsNormEps ?? 1e-6,
    rope_theta: llm.ropeTheta,
    vocab_size: vocabSize,
    tie_word_embeddings: false,
    use_sliding_window: false,
    bos_token_id: 151643,
    eos_token_id: null,
    torch_dtype: 'float32',
  };
}
