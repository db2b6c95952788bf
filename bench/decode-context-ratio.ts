/**
 * The long/short decode-step ratio of in-place `llm` graphs, measured so that a loaded machine's
 * drift cancels: one decode step (llm + lm_head) after `--short` and after `--long` cached
 * positions, the graphs and lengths interleaved step by step (A-short, A-long, B-short, B-long, …),
 * `--rounds` times. The ratio is taken per round (long over the adjacent short step of the same
 * graph) and its median reported, beside the median times. The cache is a synthetic buffer in each
 * graph's layout, fed whole as the SDK feeds it; nothing is appended, so every step of a kind does
 * the same work.
 *
 *   npx tsx bench/decode-context-ratio.ts --dir /tmp/lc28 --graph 'before=llm.in-place-keys-transposed.onnx:keys-transposed' \
 *     --graph 'after=llm.in-place.onnx:values-transposed' [--rounds 15] [--short 38] [--long 4180] [--chunk 1] [--layers 28]
 *
 * `--dir` holds the graphs (`bench/decode-long-context.ts --dir … --build-only` builds them) and `lm_head.onnx`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { UNIPIC_1_5B, toModelConfig } from '../src/families/unipic1/convert/checkpoint-config.js';
import type { InPlaceKvLayout } from '../src/spec/manifest.js';
import { formatMs, median } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string' },
    graph: { type: 'string', multiple: true },
    rounds: { type: 'string', default: '15' },
    short: { type: 'string', default: '38' },
    long: { type: 'string', default: '4180' },
    // New positions per step: 1 is a decode step; more times a prefill chunk on top of the cache.
    chunk: { type: 'string', default: '1' },
    layers: { type: 'string', default: '28' },
  },
});
if (!args.dir || !args.graph?.length) throw new Error('--dir and at least one --graph id=file:layout');
const dir = args.dir;
const { llm } = toModelConfig({ ...UNIPIC_1_5B, llm: { ...UNIPIC_1_5B.llm, num_hidden_layers: Number(args.layers) } });
const chunk = Number(args.chunk);
const lengths = [Number(args.short), Number(args.long)];
const load = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' / ');
const options: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  executionMode: 'sequential',
  extra: { session: { intra_op: { allow_spinning: '0' } } },
};

/** One step's feeds after `past` positions: the cache buffer with 256-slot growth, as InPlaceKvCache sizes it. */
function stepFeeds(past: number, layout: InPlaceKvLayout): Record<string, ort.Tensor> {
  const capacity = Math.ceil((past + chunk) / 256) * 256;
  const feeds: Record<string, ort.Tensor> = {
    inputs_embeds: new ort.Tensor(
      'float32',
      Float32Array.from({ length: chunk * llm.hiddenSize }, (_, i) => Math.sin(i) * 0.02),
      [1, chunk, llm.hiddenSize],
    ),
    attention_mask: new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: capacity + chunk }, (_, i) => (i < past || i >= capacity ? 1n : 0n)),
      [1, capacity + chunk],
    ),
    position_ids: new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: chunk }, (_, i) => BigInt(past + i)),
      [1, chunk],
    ),
  };
  const slotsMajor = [1, llm.numKeyValueHeads, capacity, llm.headDim];
  const dimsMajor = [1, llm.numKeyValueHeads, llm.headDim, capacity];
  for (let i = 0; i < llm.numLayers; i++) {
    const data = () => Float32Array.from({ length: llm.numKeyValueHeads * capacity * llm.headDim }, (_, k) => Math.sin(k * 0.37 + i) * 0.5);
    feeds[`past_key_values.${i}.key`] = new ort.Tensor('float32', data(), layout === 'keys-transposed' ? dimsMajor : slotsMajor);
    feeds[`past_key_values.${i}.value`] = new ort.Tensor('float32', data(), layout === 'values-transposed' ? dimsMajor : slotsMajor);
  }
  return feeds;
}

const head = await ort.InferenceSession.create(join(dir, 'lm_head.onnx'), options);
const headFeeds = {
  hidden: new ort.Tensor(
    'float32',
    Float32Array.from({ length: llm.hiddenSize }, (_, i) => Math.cos(i)),
    [1, llm.hiddenSize],
  ),
};
const graphs = [];
for (const spec of args.graph) {
  const [id, rest] = spec.split('=');
  const [file, layout] = rest.split(':') as [string, InPlaceKvLayout];
  const session = await ort.InferenceSession.create(join(dir, file), options);
  graphs.push({ id, session, feeds: lengths.map((past) => stepFeeds(past, layout)), times: lengths.map(() => [] as number[]), ratios: [] as number[] });
}
const step = async (session: ort.InferenceSession, feeds: Record<string, ort.Tensor>) => {
  const started = performance.now();
  await session.run(feeds);
  await head.run(headFeeds);
  return performance.now() - started;
};
for (const graph of graphs) for (const feeds of graph.feeds) await step(graph.session, feeds);
const startLoad = await load();
for (let round = 0; round < Number(args.rounds); round++) {
  for (const graph of graphs) {
    const [short, long] = [await step(graph.session, graph.feeds[0]), await step(graph.session, graph.feeds[1])];
    graph.times[0].push(short);
    graph.times[1].push(long);
    graph.ratios.push(long / short);
  }
}
console.log(`| graph | ms / step after ${lengths[0]} | after ${lengths[1]} | long / short (median of per-round ratios) | ratio range |`);
console.log('| --- | --- | --- | --- | --- |');
for (const graph of graphs) {
  const sorted = [...graph.ratios].sort((a, b) => a - b);
  const [short, long] = graph.times.map(median);
  console.log(
    `| ${graph.id} | ${formatMs(short)} | ${formatMs(long)} | ${median(graph.ratios).toFixed(2)}× | ${sorted[0].toFixed(2)}–${sorted[sorted.length - 1].toFixed(2)}× |`,
  );
}
console.log(
  `\n${args.rounds} interleaved rounds, ${llm.numLayers} layers, ${chunk} new position(s) per step, llm + lm_head per step; load average ${startLoad} at the start, ${await load()} at the end`,
);
for (const graph of graphs) await graph.session.release();
await head.release();
