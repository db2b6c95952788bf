/**
 * Long-context decode, the copying cache against the in-place one, on a shallow full-width
 * Qwen2.5-1.5B (`--layers N`, default 2): q4 with accuracy level 4 as the converter builds the
 * `llm` and `lm_head` graphs, per-token time after 38 and after 4180 cached positions, the two
 * caches alternating run by run. Cheaper than `npm run bench -- --only decode` (no full-size
 * build); the per-layer cost of the context it prints scales to the 28-layer model.
 *
 *   npx tsx bench/decode-long-context.ts [--layers 2] [--repeats 3] [--tokens 6]
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildEmbedGraph } from '../src/convert/graphs/llm/embed-graph.js';
import { buildLlmGraph, type LlmGraphOptions } from '../src/convert/graphs/llm/llm-graph.js';
import { buildLmHeadGraph } from '../src/convert/graphs/llm/lm-head-graph.js';
import type { GraphContext } from '../src/convert/graphs/weights.js';
import { GraphBuilder } from '../src/convert/onnx/graph-builder.js';
import { FileWeightSink } from '../src/convert/onnx/weight-sink.js';
import { UNIPIC_1_5B, toModelConfig } from '../src/families/unipic1/convert/checkpoint-config.js';
import { OurDecoder, decodeTimings } from './lib/decode-runners.js';
import { formatMs, median } from './lib/stats.js';
import { SyntheticWeights } from './lib/synthetic-weights.js';

const { values: args } = parseArgs({
  options: { layers: { type: 'string', default: '2' }, repeats: { type: 'string', default: '3' }, tokens: { type: 'string', default: '6' } },
});
const layers = Number(args.layers);
const repeats = Number(args.repeats);
const tokens = Number(args.tokens);
const SHORT = 30;
const LONG = 4172;

const structure = { ...UNIPIC_1_5B, llm: { ...UNIPIC_1_5B.llm, num_hidden_layers: layers } };
const config = toModelConfig(structure);
const weights = new SyntheticWeights(structure);
const dir = join(tmpdir(), `unipic-long-context-${process.pid}`);
await mkdir(dir, { recursive: true });
try {
  const sink = new FileWeightSink(dir, 'weights');
  const build = async (name: string, file: string, fill: (ctx: GraphContext) => void) => {
    const builder = new GraphBuilder(name, sink);
    fill({ builder, weights, dtype: 'q4' });
    await writeFile(join(dir, file), builder.toBytes());
  };
  const started = Date.now();
  const level4 = { accuracyLevel: 4 };
  await build('embed', 'embed.onnx', (ctx) => buildEmbedGraph(ctx, config));
  await build('lm_head', 'lm_head.onnx', (ctx) => buildLmHeadGraph(ctx, config, level4));
  const bodies: Record<string, LlmGraphOptions> = { copying: { linear: level4 }, 'in-place': { linear: level4, kvCache: 'in-place' } };
  for (const [id, body] of Object.entries(bodies)) await build('llm', `llm.${id}.onnx`, (ctx) => buildLlmGraph(ctx, config, body));
  sink.close();
  console.error(`built ${layers}-layer q4 graphs in ${((Date.now() - started) / 1000).toFixed(0)} s`);

  const decoders = new Map<string, OurDecoder>();
  for (const id of Object.keys(bodies)) {
    decoders.set(id, await OurDecoder.open(dir, { embed: 'embed.onnx', llm: `llm.${id}.onnx`, lmHead: 'lm_head.onnx' }, config, { inPlace: id === 'in-place' }));
  }
  const prompt = Array.from({ length: 8 }, (_, i) => 1000 + ((i * 7919) % 50000));
  const perToken = new Map<string, number[]>();
  const ids = new Map<string, string>();
  for (const decoder of decoders.values()) await decoder.generate(prompt, 2);
  for (let run = 0; run < repeats; run++) {
    for (const past of [SHORT, LONG]) {
      for (const [id, decoder] of decoders) {
        const trace = await decoder.generate(prompt, tokens, past);
        const key = `${id}@${past}`;
        perToken.set(key, [...(perToken.get(key) ?? []), decodeTimings(trace).perTokenMs]);
        ids.set(key, trace.ids.join(','));
      }
    }
  }
  for (const decoder of decoders.values()) await decoder.close();
  const positions = (past: number) => past + prompt.length + tokens / 2;
  console.log(`| cache | ms / token after ${positions(SHORT)} | after ${positions(LONG)} | long / short | context cost per layer |`);
  console.log('| --- | --- | --- | --- | --- |');
  for (const id of Object.keys(bodies)) {
    const short = median(perToken.get(`${id}@${SHORT}`)!);
    const long = median(perToken.get(`${id}@${LONG}`)!);
    console.log(`| ${id} | ${formatMs(short)} | ${formatMs(long)} | ${(long / short).toFixed(2)}× | ${formatMs((long - short) / layers)} |`);
  }
  const same = [SHORT, LONG].every((past) => ids.get(`copying@${past}`) === ids.get(`in-place@${past}`));
  console.log(
    `\n${layers} of 28 layers, full widths, q4 accuracy level 4, median of ${repeats} alternated runs, ${tokens} tokens each; same greedy tokens: ${same ? 'yes' : 'NO'}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
