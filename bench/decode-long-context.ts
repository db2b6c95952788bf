/**
 * Long-context decode: the copying cache and the in-place one in both buffer layouts (`in-place`:
 * values transposed, today's converter; `in-place, keys transposed`: the first in-place graphs),
 * on a full-width Qwen2.5-1.5B of `--layers N` (default 2; 28 is the full model): q4 with accuracy
 * level 4 as the converter builds the `llm` and `lm_head` graphs, per-token time after 38 and after
 * 4180 cached positions, the caches alternating run by run.
 *
 * `--dir` keeps the graphs (built once, reused while the graph sources are unchanged), so that a
 * full-depth build can run under the conversion lock (`--build-only`) and the timing under the
 * benchmark lock; `--only` picks bodies (ids separated by `;`).
 *
 *   npx tsx bench/decode-long-context.ts [--layers 2] [--repeats 3] [--tokens 6] [--dir D [--build-only]] [--only 'in-place;copying']
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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
import { DedupWeightSink } from './lib/dedup-weight-sink.js';
import { OurDecoder, decodeTimings } from './lib/decode-runners.js';
import { LLM_GRAPH_SOURCES, sourceFingerprint } from './lib/source-fingerprint.js';
import { formatMs, median } from './lib/stats.js';
import { SyntheticWeights } from './lib/synthetic-weights.js';

const { values: args } = parseArgs({
  options: {
    layers: { type: 'string', default: '2' },
    repeats: { type: 'string', default: '3' },
    tokens: { type: 'string', default: '6' },
    dir: { type: 'string' },
    'build-only': { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const layers = Number(args.layers);
const repeats = Number(args.repeats);
const tokens = Number(args.tokens);
const SHORT = 30;
const LONG = 4172;

const level4 = { accuracyLevel: 4 };
const BODIES: Record<string, LlmGraphOptions> = {
  copying: { linear: level4 },
  'in-place, keys transposed': { linear: level4, kvCache: 'in-place', inPlaceLayout: 'keys-transposed' },
  'in-place': { linear: level4, kvCache: 'in-place', inPlaceLayout: 'values-transposed' },
};
const bodyIds = args.only ? args.only.split(';') : Object.keys(BODIES);
for (const id of bodyIds) if (!BODIES[id]) throw new Error(`--only: unknown body ${id} (${Object.keys(BODIES).join(', ')})`);
const fileOf = (id: string) => `llm.${id.replaceAll(/[^a-z]+/g, '-')}.onnx`;

const structure = { ...UNIPIC_1_5B, llm: { ...UNIPIC_1_5B.llm, num_hidden_layers: layers } };
const config = toModelConfig(structure);
const dir = args.dir ?? join(tmpdir(), `unipic-long-context-${process.pid}`);
const load = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' / ');

/** Builds the graphs into `dir` unless a build of the same layers and graph sources is there. */
async function buildGraphs(): Promise<void> {
  const stampPath = join(dir, 'stamp.json');
  const stamp = JSON.stringify({ layers, bodies: Object.keys(BODIES), sources: sourceFingerprint(LLM_GRAPH_SOURCES) });
  if (existsSync(stampPath) && (await readFile(stampPath, 'utf8')) === stamp) return;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const weights = new SyntheticWeights(structure);
  // The bodies differ only in attention: their weights are stored once.
  const sink = new DedupWeightSink(new FileWeightSink(dir, 'weights'));
  const build = async (name: string, file: string, fill: (ctx: GraphContext) => void) => {
    const builder = new GraphBuilder(name, sink);
    fill({ builder, weights, dtype: 'q4' });
    await writeFile(join(dir, file), builder.toBytes());
  };
  const started = Date.now();
  await build('embed', 'embed.onnx', (ctx) => buildEmbedGraph(ctx, config));
  await build('lm_head', 'lm_head.onnx', (ctx) => buildLmHeadGraph(ctx, config, level4));
  for (const [id, body] of Object.entries(BODIES)) await build('llm', fileOf(id), (ctx) => buildLlmGraph(ctx, config, body));
  sink.close();
  await writeFile(stampPath, stamp);
  console.error(`built ${layers}-layer q4 graphs in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

try {
  await buildGraphs();
  if (!args['build-only']) {
    const startLoad = await load();
    const decoders = new Map<string, OurDecoder>();
    for (const id of bodyIds) {
      const body = BODIES[id];
      const inPlace = body.kvCache === 'in-place' ? body.inPlaceLayout : undefined;
      decoders.set(id, await OurDecoder.open(dir, { embed: 'embed.onnx', llm: fileOf(id), lmHead: 'lm_head.onnx' }, config, { inPlace }));
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
    console.log(`| cache | ms / token after ${positions(SHORT)} | after ${positions(LONG)} | long / short | context cost per layer | runs (short; long) |`);
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const id of bodyIds) {
      const shortRuns = perToken.get(`${id}@${SHORT}`)!;
      const longRuns = perToken.get(`${id}@${LONG}`)!;
      const short = median(shortRuns);
      const long = median(longRuns);
      const runs = `${shortRuns.map((ms) => ms.toFixed(0)).join(', ')}; ${longRuns.map((ms) => ms.toFixed(0)).join(', ')}`;
      console.log(`| ${id} | ${formatMs(short)} | ${formatMs(long)} | ${(long / short).toFixed(2)}× | ${formatMs((long - short) / layers)} | ${runs} |`);
    }
    const same = [SHORT, LONG].every((past) => new Set(bodyIds.map((id) => ids.get(`${id}@${past}`))).size === 1);
    console.log(
      `\n${layers} of 28 layers, full widths, q4 accuracy level 4, median of ${repeats} alternated runs, ${tokens} tokens each; ` +
        `same greedy tokens: ${same ? 'yes' : 'NO'}; load average ${startLoad} at the start, ${await load()} at the end`,
    );
  }
} finally {
  if (!args.dir) await rm(dir, { recursive: true, force: true });
}
